package rule

import (
	"errors"
	"fmt"
	"time"
)

// DefaultTimestamp is the event time field every ECS document carries.
const DefaultTimestamp = "@timestamp"

// Timing is a rule's schedule and windows, parsed once by Normalize.
type Timing struct {
	// Interval is the schedule interval: slots are its multiples (UTC).
	Interval time.Duration
	// From, To and History are the parsed from (default now-6m), to
	// (default now) and history_window_start.
	From, To, History DateMath
}

// Timestamps are a rule's time fields (docs/semantics.md): Primary is
// timestamp_override or @timestamp; Secondary is @timestamp when an override
// is set and its fallback is enabled, else empty.
type Timestamps struct {
	Primary, Secondary string
}

// ErrNotNormalized means a rule was used before Normalize.
var ErrNotNormalized = errors.New("rule not normalized (call Normalize after building a rule)")

// Normalize fills in Kibana's defaults (ApplyDefaults) and parses, once, what
// every consumer of the rule needs: Timing and Timestamps. Loaders and
// Builtin call it; a rule built by hand must be normalized before use. It
// fails on what Validate reports as an invalid interval or date math.
func (r *Rule) Normalize() error {
	r.ApplyDefaults()
	iv, err := ParseInterval(r.Interval)
	if err != nil {
		return fmt.Errorf("rule %s: interval: %w", r.RuleID, err)
	}
	from, err := ParseDateMath(r.From)
	if err != nil {
		return fmt.Errorf("rule %s: from: %w", r.RuleID, err)
	}
	to, err := ParseDateMath(r.To)
	if err != nil {
		return fmt.Errorf("rule %s: to: %w", r.RuleID, err)
	}
	history, err := ParseDateMath(r.HistoryWindowStart)
	if err != nil {
		return fmt.Errorf("rule %s: history_window_start: %w", r.RuleID, err)
	}
	r.Timing = Timing{Interval: iv, From: from, To: to, History: history}
	r.Timestamps = Timestamps{Primary: DefaultTimestamp}
	if r.TimestampOverride != "" {
		r.Timestamps.Primary = r.TimestampOverride
	}
	if r.Timestamps.Primary != DefaultTimestamp && !r.TimestampOverrideFallbackDisabled {
		r.Timestamps.Secondary = DefaultTimestamp
	}
	return nil
}

// Normalized reports whether Normalize has run.
func (r *Rule) Normalized() bool { return r.Timing.Interval > 0 }
