// Package oracle computes, by brute force over raw events, the alerts Kibana's
// new_terms rule (aggregation approach, as docs/semantics.md specifies it) writes for a
// sequence of slots. It shares no code with detect/ or esquery/: it scans
// documents, compares timestamps and sorts, so that the executor can be checked
// against it on randomized datasets.
package oracle

import (
	"errors"
	"fmt"
	"time"
)

// Doc is one raw source document as stored in Elasticsearch.
type Doc struct {
	Index  string
	ID     string
	Source map[string]any
}

// FieldType is the mapped type of a new-terms field; it decides how values are
// normalised and ordered.
type FieldType int

// Supported field types.
const (
	Keyword FieldType = iota // strings, ordered by UTF-8 bytes
	Long                     // integers, ordered numerically
	Boolean                  // false before true
	IP                       // ordered by the 16-byte (IPv4-mapped) address
)

// Field is one new-terms field.
type Field struct {
	Name string
	Type FieldType
}

// AlertIDFunc computes an alert _id (object-hash of index, id, "undefined",
// space:rule, newTerms). Tests pass alerts.ID.
type AlertIDFunc func(index, docID, space, ruleSavedObjectID string, newTerms []any) string

// Params are the rule parameters the oracle needs, as plain values.
type Params struct {
	Fields            []Field
	History           time.Duration // history_window_start = slot - History
	Lookback          time.Duration // from = slot - Lookback
	TimestampOverride string        // "" or "@timestamp" means none
	FallbackDisabled  bool          // timestamp_override_fallback_disabled
	MaxSignals        int
	// Match is the rule query (and filters, exceptions) as a predicate over the source document.
	Match   func(src map[string]any) bool
	Space   string
	RuleID  string // the rule's saved-object id, as hashed in alert ids
	AlertID AlertIDFunc
}

// Window is the slot-aligned window of one execution (docs/semantics.md D3).
type Window struct {
	Slot, From, To, HistoryStart time.Time
}

// WindowAt returns the window of slot: to = slot, from = slot - Lookback,
// historyStart = slot - History.
func (p Params) WindowAt(slot time.Time) Window {
	return Window{Slot: slot, From: slot.Add(-p.Lookback), To: slot, HistoryStart: slot.Add(-p.History)}
}

// DocRef names a source document.
type DocRef struct {
	Index, ID string
}

// Choice is one acceptable source document for an alert and the alert _id it gives.
type Choice struct {
	AlertID string
	Source  DocRef
}

// Alert is one new term (or combination) with the document that becomes the alert.
type Alert struct {
	Choice
	// NewTerms are the typed term values in field order: string (keyword, ip),
	// int64 (long) or bool (boolean).
	NewTerms []any
	// Alternatives are further source documents with the same oldest timestamp;
	// Kibana may pick any of them. Empty unless the dataset has such ties.
	Alternatives []Choice
	// DocCount is the number of documents in [from, to] carrying the term.
	DocCount int
	// FirstSeen is the earliest effective timestamp of the term in the history window.
	FirstSeen time.Time
}

// Choices returns the alert's document and its alternatives.
func (a Alert) Choices() []Choice { return append([]Choice{a.Choice}, a.Alternatives...) }

// SlotResult is what one execution does.
type SlotResult struct {
	Window
	// Candidates are the new terms in Kibana's creation order, before the
	// duplicate check and the max_signals quota.
	Candidates []Alert
	// Created are the alerts written by this slot, in creation order.
	Created []Alert
	// Duplicates counts candidates whose alert an earlier slot already wrote.
	Duplicates int
	// Truncated says that more alerts could have been written than max_signals
	// (Kibana's "maximum alert limit" warning).
	Truncated bool
}

// Run computes the result of executing the rule at every slot, in order, as
// sequential Kibana runs against one alerts index.
func Run(docs []Doc, p Params, slots []time.Time) ([]SlotResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	prepared, err := prepare(docs, p)
	if err != nil {
		return nil, err
	}
	written := map[string]bool{}
	var out []SlotResult
	for _, slot := range slots {
		w := p.WindowAt(slot)
		res := SlotResult{Window: w, Candidates: candidates(prepared, p, w)}
		for _, a := range res.Candidates {
			if anyWritten(written, a) {
				res.Duplicates++
				continue
			}
			if len(res.Created) == p.MaxSignals {
				res.Truncated = true
				break
			}
			res.Created = append(res.Created, a)
		}
		for _, a := range res.Created {
			written[a.AlertID] = true
		}
		out = append(out, res)
	}
	return out, nil
}

func anyWritten(written map[string]bool, a Alert) bool {
	for _, c := range a.Choices() {
		if written[c.AlertID] {
			return true
		}
	}
	return false
}

func (p Params) validate() error {
	var errs []error
	if n := len(p.Fields); n < 1 || n > 3 {
		errs = append(errs, fmt.Errorf("need 1 to 3 new-terms fields, got %d", n))
	}
	if p.MaxSignals < 1 {
		errs = append(errs, fmt.Errorf("max_signals must be positive, got %d", p.MaxSignals))
	}
	if p.History <= p.Lookback {
		errs = append(errs, fmt.Errorf("history %s must be longer than the lookback %s", p.History, p.Lookback))
	}
	if p.Match == nil {
		errs = append(errs, errors.New("missing query predicate"))
	}
	if p.AlertID == nil {
		errs = append(errs, errors.New("missing alert id function"))
	}
	return errors.Join(errs...)
}
