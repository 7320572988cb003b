// Package detect runs new_terms rules: slot-aligned windows, Kibana's
// three-phase aggregation algorithm (with esrule's deliberate differences
// D1–D6 of docs/semantics.md) and the alert creation loop with max_signals
// (docs/alerts.md). It talks to
// Elasticsearch only through the small interfaces it declares (Searcher,
// AlertStore, FieldCapsFunc).
package detect

import (
	"fmt"
	"time"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
)

// Window is the time range of one execution, identified by its slot time.
// [From, To] is the rule interval with look-back and [HistoryStart, To] the
// history window; both bounds are inclusive, all times UTC.
type Window struct {
	Slot         time.Time
	From         time.Time
	To           time.Time
	HistoryStart time.Time
}

// historyWindowError is Kibana's validateHistoryWindowStart message.
const historyWindowError = "History window size is smaller than rule interval + additional lookback, 'historyWindowStart' must be earlier than 'from'"

// WindowAt computes the window of r for slot (D3): to = datemath(to, now=slot),
// from = datemath(from, now=slot), historyStart = datemath(history_window_start,
// now=to). It fails, with Kibana's message, unless historyStart < from.
func WindowAt(r *rule.Rule, slot time.Time) (Window, error) {
	slot = slot.UTC()
	if !r.Normalized() {
		return Window{}, fmt.Errorf("rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	w := Window{Slot: slot, To: r.Timing.To.At(slot), From: r.Timing.From.At(slot)}
	w.HistoryStart = r.Timing.History.At(w.To)
	if !w.HistoryStart.Before(w.From) {
		return Window{}, fmt.Errorf("rule %s at %s: %s", r.RuleID, slot.Format(time.RFC3339), historyWindowError)
	}
	if w.To.Before(w.From) {
		return Window{}, fmt.Errorf("rule %s at %s: to %s is before from %s", r.RuleID, slot.Format(time.RFC3339),
			w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
	}
	return w, nil
}

// SlotAt returns the latest slot of r at or before t: t rounded down to a
// multiple of the rule interval counted from the Unix epoch (UTC).
func SlotAt(r *rule.Rule, t time.Time) (time.Time, error) {
	if !r.Normalized() {
		return time.Time{}, fmt.Errorf("rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	return rule.AlignSlot(t.UTC(), r.Timing.Interval), nil
}

// CheckSlot returns nil if t is a slot of r, else an error naming the slots
// just before and after t.
func CheckSlot(r *rule.Rule, t time.Time) error {
	if !r.Normalized() {
		return fmt.Errorf("rule %s: %w", r.RuleID, rule.ErrNotNormalized)
	}
	iv := r.Timing.Interval
	before := rule.AlignSlot(t.UTC(), iv)
	if before.Equal(t) {
		return nil
	}
	return fmt.Errorf("%s is not a slot of rule %s (interval %s): nearest slots are %s and %s",
		t.UTC().Format(time.RFC3339Nano), r.RuleID, iv, before.Format(time.RFC3339), before.Add(iv).Format(time.RFC3339))
}

// Recent is the rule interval [From, To].
func (w Window) Recent() esquery.TimeRange { return esquery.TimeRange{From: w.From, To: w.To} }

// History is the history window [HistoryStart, To].
func (w Window) History() esquery.TimeRange { return esquery.TimeRange{From: w.HistoryStart, To: w.To} }

// SlotsFor returns the slot of each rule: at, which must be aligned to the
// rule's interval, or, when at is zero, the latest completed slot at now.
func SlotsFor(rules []*rule.Rule, at, now time.Time) ([]time.Time, error) {
	slots := make([]time.Time, len(rules))
	for i, r := range rules {
		var err error
		if at.IsZero() {
			slots[i], err = SlotAt(r, now)
		} else {
			err = CheckSlot(r, at)
			slots[i] = at.UTC()
		}
		if err != nil {
			return nil, err
		}
	}
	return slots, nil
}
