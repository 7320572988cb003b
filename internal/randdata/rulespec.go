package randdata

import (
	"fmt"
	"time"
)

// TimestampMode says which timestamp the synthetic rule uses.
type TimestampMode int

// Timestamp modes. ModeAuto lets Generate derive the mode from the seed.
const (
	ModeAuto TimestampMode = iota
	// ModeTimestamp uses @timestamp (no override).
	ModeTimestamp
	// ModeOverrideFallback uses event.ingested, falling back to @timestamp.
	ModeOverrideFallback
	// ModeOverrideNoFallback uses event.ingested only (timestamp_override_fallback_disabled).
	ModeOverrideNoFallback
)

func (m TimestampMode) String() string {
	switch m {
	case ModeTimestamp:
		return "timestamp"
	case ModeOverrideFallback:
		return "override+fallback"
	case ModeOverrideNoFallback:
		return "override-no-fallback"
	}
	return "auto"
}

// RuleSpec holds the parameters of the synthetic rule a dataset is built for.
// Durations are what the oracle consumes; the *DateMath methods give the rule
// strings the executor consumes.
type RuleSpec struct {
	Fields     []string
	History    time.Duration // history_window_start = now-History
	Lookback   time.Duration // from = now-Lookback
	Interval   time.Duration
	MaxSignals int
	Mode       TimestampMode
	Query      string
}

// TimestampOverride is the rule's timestamp_override ("" when none).
func (s RuleSpec) TimestampOverride() string {
	if s.Mode == ModeOverrideFallback || s.Mode == ModeOverrideNoFallback {
		return FieldIngested
	}
	return ""
}

// FallbackDisabled is the rule's timestamp_override_fallback_disabled.
func (s RuleSpec) FallbackDisabled() bool { return s.Mode == ModeOverrideNoFallback }

// HistoryDateMath is history_window_start, e.g. "now-60m".
func (s RuleSpec) HistoryDateMath() string { return "now-" + durationUnit(s.History) }

// FromDateMath is from, e.g. "now-6m".
func (s RuleSpec) FromDateMath() string { return "now-" + durationUnit(s.Lookback) }

// IntervalString is the schedule interval, e.g. "5m".
func (s RuleSpec) IntervalString() string { return durationUnit(s.Interval) }

func durationUnit(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// Window is the slot-aligned window of one execution (docs/semantics.md D3), as the dataset
// generator sees it; the oracle computes its own.
type Window struct {
	From, To, HistoryStart time.Time
}

// WindowAt returns the window of slot T.
func (s RuleSpec) WindowAt(slot time.Time) Window {
	return Window{From: slot.Add(-s.Lookback), To: slot, HistoryStart: slot.Add(-s.History)}
}
