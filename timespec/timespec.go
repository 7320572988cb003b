// Package timespec reads the times given on esrule's command line (--at,
// --from, --to, --since, --start-from): one syntax for every flag.
package timespec

import (
	"fmt"
	"time"

	"github.com/esrule/esrule/rule"
)

// Forms describes the accepted forms, for help texts and error messages.
const Forms = "an RFC 3339 time (2026-05-01T10:05:00Z), a date (2026-05-01, midnight UTC) or date math (now, now-1h, now-1d/d, 2026-05-01||+1d)"

// Parse reads s as an RFC 3339 time, a date (midnight UTC) or a date-math
// expression (Kibana's syntax, as in a rule's from) evaluated at now. The
// result is in UTC.
func Parse(s string, now time.Time) (time.Time, error) {
	d, err := rule.ParseDateMath(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want %s", s, Forms)
	}
	return d.At(now).UTC(), nil
}

// ParseFlag is Parse with the flag's name in the error: "--at "x": want ...".
func ParseFlag(flag, s string, now time.Time) (time.Time, error) {
	t, err := Parse(s, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %w", flag, err)
	}
	return t, nil
}
