package rule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateMath is a parsed Kibana date-math expression such as "now-7d",
// "now-1d/d" or "2024-01-01T00:00:00Z||+1h" (Kibana's @kbn/datemath, the parser
// behind a rule's from, to and history_window_start).
//
// Rounding (/d, /w, ...) rounds down and happens in UTC; /w starts the week on
// Sunday, as moment's default "en" locale does in Kibana.
type DateMath struct {
	// Anchor is the absolute start instant; zero means "now".
	Anchor time.Time
	Ops    []DateMathOp
	src    string
}

// DateMathOp is one step of a date-math expression: add (+), subtract (-) or
// round down (/) by a unit.
type DateMathOp struct {
	Op     byte // '+', '-' or '/'
	Amount int  // unused for '/'
	Unit   string
}

// dateMathUnits are @kbn/datemath's units ("H" is an alias of "h").
var dateMathUnits = []string{"ms", "y", "M", "w", "d", "h", "H", "m", "s"}

// absoluteLayouts are the absolute date forms accepted before "||" or alone.
var absoluteLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseDateMath parses a Kibana date-math expression: "now" or an absolute
// ISO 8601 date (followed by "||" when operations follow), then any number of
// "+N<unit>", "-N<unit>" and "/<unit>" steps with units y M w d h H m s ms.
func ParseDateMath(s string) (DateMath, error) {
	d := DateMath{src: s}
	text := strings.TrimSpace(s)
	if text == "" {
		return d, fmt.Errorf("parse date math %q: empty expression", s)
	}
	var rest string
	switch {
	case strings.HasPrefix(text, "now"):
		rest = text[len("now"):]
	default:
		abs := text
		if i := strings.Index(text, "||"); i >= 0 {
			abs, rest = text[:i], text[i+2:]
		}
		t, err := parseAbsolute(abs)
		if err != nil {
			return d, fmt.Errorf("parse date math %q: %w", s, err)
		}
		d.Anchor = t
	}
	ops, err := parseDateMathOps(rest)
	if err != nil {
		return d, fmt.Errorf("parse date math %q: %w", s, err)
	}
	d.Ops = ops
	return d, nil
}

func parseAbsolute(s string) (time.Time, error) {
	for _, layout := range absoluteLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither \"now\" nor an ISO 8601 date", s)
}

func parseDateMathOps(s string) ([]DateMathOp, error) {
	var ops []DateMathOp
	for i := 0; i < len(s); {
		op := s[i]
		if op != '+' && op != '-' && op != '/' {
			return nil, fmt.Errorf("unexpected %q at position %d: want +, - or /", s[i:], i)
		}
		i++
		amount := 1
		if op != '/' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			digits := s[i:j]
			i = j
			if digits != "" {
				unit := matchUnit(s[i:])
				n, err := strconv.ParseInt(digits, 10, 64)
				if unit != "" && (err != nil || n > maxDateMathAmount(unit)) {
					return nil, fmt.Errorf("amount %s%s is out of range: one step may move at most %d years (%d%s)",
						digits, unit, maxDateMathYears, maxDateMathAmount(unit), unit)
				}
				amount = int(n)
			}
		}
		unit := matchUnit(s[i:])
		if unit == "" {
			return nil, fmt.Errorf("missing or unknown unit after %q: want one of y M w d h H m s ms", string(op))
		}
		i += len(unit)
		ops = append(ops, DateMathOp{Op: op, Amount: amount, Unit: unit})
	}
	return ops, nil
}

func matchUnit(s string) string {
	for _, u := range dateMathUnits {
		if strings.HasPrefix(s, u) {
			return u
		}
	}
	return ""
}

// String returns the expression as it was written.
func (d DateMath) String() string { return d.src }

// IsZero reports whether d was never parsed.
func (d DateMath) IsZero() bool { return d.src == "" && d.Anchor.IsZero() && d.Ops == nil }

// At evaluates the expression with "now" = now. The result is in UTC.
func (d DateMath) At(now time.Time) time.Time {
	t := now.UTC()
	if !d.Anchor.IsZero() {
		t = d.Anchor
	}
	for _, op := range d.Ops {
		switch op.Op {
		case '+':
			t = addUnit(t, op.Amount, op.Unit)
		case '-':
			t = addUnit(t, -op.Amount, op.Unit)
		case '/':
			t = roundDown(t, op.Unit)
		}
	}
	return t
}

// addUnit adds n units like moment's add: months and years keep the day of
// month when it exists and clamp to the month's last day otherwise.
func addUnit(t time.Time, n int, unit string) time.Time {
	switch unit {
	case "y":
		return addMonths(t, 12*n)
	case "M":
		return addMonths(t, n)
	case "w":
		return t.AddDate(0, 0, 7*n)
	case "d":
		return t.AddDate(0, 0, n)
	case "h", "H":
		return t.Add(time.Duration(n) * time.Hour)
	case "m":
		return t.Add(time.Duration(n) * time.Minute)
	case "s":
		return t.Add(time.Duration(n) * time.Second)
	default: // "ms"
		return t.Add(time.Duration(n) * time.Millisecond)
	}
}

func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}

func roundDown(t time.Time, unit string) time.Time {
	y, m, d := t.Date()
	loc := t.Location()
	switch unit {
	case "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	case "M":
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case "w":
		return time.Date(y, m, d-int(t.Weekday()), 0, 0, 0, 0, loc)
	case "d":
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case "h", "H":
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	case "m":
		return t.Truncate(time.Minute)
	case "s":
		return t.Truncate(time.Second)
	default: // "ms"
		return t.Truncate(time.Millisecond)
	}
}
