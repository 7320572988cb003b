package detect

import (
	"context"
	"fmt"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/rule"
)

// Coverage counts, over the history window, the documents that match the
// rule query and how many of them hold each new-terms field (docs/semantics.md D5). A field
// missing from most matching documents means the rule can hardly alert (the
// Okta pair rule on stock data is the known case).
type Coverage struct {
	// Total is the number of documents matching the rule in the history window.
	Total int64 `json:"total"`
	// Fields has one entry per new-terms field, in rule order.
	Fields []FieldCoverage `json:"fields"`
	// AllFields counts documents holding every new-terms field.
	AllFields int64 `json:"all_fields"`
}

// FieldCoverage is the number of matching documents holding Field.
type FieldCoverage struct {
	Field string `json:"field"`
	Docs  int64  `json:"docs"`
}

// Warnings returns one message per field missing from more than half of the
// matching documents.
func (c Coverage) Warnings() []string {
	var out []string
	for _, f := range c.Fields {
		if c.Total > 0 && f.Docs*2 < c.Total {
			out = append(out, fmt.Sprintf(
				"new-terms field %q is missing from %d of %d documents matching the rule in the history window; only documents that have it can alert",
				f.Field, c.Total-f.Docs, c.Total))
		}
	}
	return out
}

// CheckCoverage runs the coverage search of r for window w with the rule's
// query filter (see QueryFilter). `rules explain` uses it; Run does the same
// check once per execution unless Config.SkipCoverage.
func CheckCoverage(ctx context.Context, s Searcher, r *rule.Rule, w Window, filter map[string]any) (Coverage, error) {
	q := esquery.Query{Fields: r.NewTermsFields, Timestamps: r.Timestamps, Filter: filter}
	body, err := q.Coverage(w.History())
	if err != nil {
		return Coverage{}, err
	}
	resp, err := s.Search(ctx, r.Index, body, nil)
	if err != nil {
		return Coverage{}, fmt.Errorf("%s: %w", phaseCoverage, err)
	}
	c, err := decodeCoverage(q, resp)
	if err != nil {
		return Coverage{}, fmt.Errorf("%s: %w", phaseCoverage, err)
	}
	return c, nil
}

func decodeCoverage(q esquery.Query, resp esquery.Response) (Coverage, error) {
	c := Coverage{Total: max(resp.TotalHits, 0), Fields: make([]FieldCoverage, len(q.Fields))}
	for i, f := range q.Fields {
		c.Fields[i].Field = f
	}
	if len(resp.Aggregations) == 0 {
		if resp.Shards == 0 {
			return c, nil
		}
		return c, esquery.ErrMissingAggregations
	}
	counts, err := q.DecodeCoverage(resp.Aggregations, c.Total)
	if err != nil {
		return c, err
	}
	for i := range c.Fields {
		c.Fields[i].Docs = counts.Fields[i]
	}
	c.AllFields = counts.AllFields
	return c, nil
}
