package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
)

// PhaseRequest is one search request of an execution, for `rules explain`.
type PhaseRequest struct {
	Name    string          `json:"name"`
	Indices []string        `json:"indices"`
	Body    json.RawMessage `json:"body"`
}

// ExplainPhases returns the exact request bodies of every phase of r for
// window w with the query filter (see QueryFilter). Values that depend on the
// data (after keys, include lists, batch combinations) are placeholders such
// as "<okta.actor.id #1>".
func ExplainPhases(r *rule.Rule, w Window, filter map[string]any) ([]PhaseRequest, error) {
	q := esquery.Query{Fields: r.NewTermsFields, Timestamps: r.Timestamps, Filter: filter}
	placeholder := func(n int) esquery.Key {
		k := make(esquery.Key, len(q.Fields))
		for i, f := range q.Fields {
			k[i] = fmt.Sprintf("<%s #%d>", f, n)
		}
		return k
	}
	keys := []esquery.Key{placeholder(1), placeholder(2)}
	var out []PhaseRequest
	add := func(name string, body []byte, err error) error {
		if err != nil {
			return fmt.Errorf("build %s request: %w", name, err)
		}
		out = append(out, PhaseRequest{Name: name, Indices: r.Index, Body: body})
		return nil
	}
	body, err := q.Coverage(w.History())
	if err := add(phaseCoverage, body, err); err != nil {
		return nil, err
	}
	body, err = q.RecentTerms(w.Recent(), nil)
	if err := add(phaseRecent+", first page", body, err); err != nil {
		return nil, err
	}
	body, err = q.RecentTerms(w.Recent(), placeholder(0))
	if err := add(phaseRecent+", next pages", body, err); err != nil {
		return nil, err
	}
	if len(q.Fields) == 1 {
		include := []any{keys[0][0], keys[1][0]}
		body, err = q.NewTerms(w.History(), include)
		if err := add(phaseHistory+", include = the page's terms", body, err); err != nil {
			return nil, err
		}
		body, err = q.DocFetch(w.Recent(), include)
		if err := add(phaseDocFetch+", include = the new terms", body, err); err != nil {
			return nil, err
		}
		return out, nil
	}
	body, err = q.HistoryComposite(w.History(), keys, placeholder(0), esquery.PageSize)
	if err := add(phaseHistory+", per batch of up to 500 combinations, after = the key before the batch", body, err); err != nil {
		return nil, err
	}
	body, err = q.DocFetchFilters(w.Recent(), keys)
	if err := add(phaseDocFetch+", per batch of new combinations", body, err); err != nil {
		return nil, err
	}
	return out, nil
}

// Explanation is what `rules explain` prints for one rule: its window for
// one slot, its query as DSL and the request of every phase.
type Explanation struct {
	ID       string            `json:"id"`
	RuleID   string            `json:"rule_id"`
	Name     string            `json:"name"`
	Origin   string            `json:"origin"`
	Interval string            `json:"interval"`
	Window   ExplainedWindow   `json:"window"`
	Index    []string          `json:"index"`
	Fields   []string          `json:"new_terms_fields"`
	Query    string            `json:"query"`
	Typed    bool              `json:"typed"`
	Filter   map[string]any    `json:"filter"`
	Phases   []PhaseRequest    `json:"phases,omitempty"`
	Notes    map[string]string `json:"notes,omitempty"`
}

// ExplainedWindow is the window of an Explanation.
type ExplainedWindow struct {
	Slot         time.Time `json:"slot"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	HistoryStart time.Time `json:"history_start"`
}

// Explain explains r at the slot at or before at; fc, when not nil, gives
// the field types of a typed KQL translation (as an execution does).
func Explain(ctx context.Context, fc FieldCapsFunc, r *rule.Rule, at time.Time) (Explanation, error) {
	slot, err := SlotAt(r, at)
	if err != nil {
		return Explanation{}, err
	}
	w, err := WindowAt(r, slot)
	if err != nil {
		return Explanation{}, err
	}
	filter, err := QueryFilter(ctx, fc, r)
	if err != nil {
		return Explanation{}, fmt.Errorf("explain rule %s: %w", r.RuleID, err)
	}
	phases, err := ExplainPhases(r, w, filter)
	if err != nil {
		return Explanation{}, fmt.Errorf("explain phases of rule %s: %w", r.RuleID, err)
	}
	return Explanation{
		ID: r.SavedObjectID(), RuleID: r.RuleID, Name: r.Name, Origin: r.Origin, Interval: r.Interval,
		Window: ExplainedWindow(w),
		Index:  r.Index, Fields: r.NewTermsFields, Query: r.Query, Typed: fc != nil, Filter: filter, Phases: phases,
	}, nil
}
