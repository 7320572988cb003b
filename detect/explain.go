package detect

import (
	"encoding/json"
	"fmt"

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
	q := esquery.Query{Fields: r.NewTermsFields, Timestamps: esquery.TimestampsFor(r), Filter: filter}
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
