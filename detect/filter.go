package detect

import (
	"context"
	"fmt"
	"slices"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

// QueryFilter builds the rule's query filter (Kibana's esFilter, docs/semantics.md) as
// the detection engine's buildEsQuery does: a KQL query translated in typed
// mode with the field specs fc finds for the fields of the query and the
// filters over the rule's indices (untyped when fc is nil or finds nothing),
// or a Lucene query as Kibana's query_string clause in must, plus the rule's
// enabled filters in filter (must_not when negated). All phases use it.
func QueryFilter(ctx context.Context, fc FieldCapsFunc, r *rule.Rule) (map[string]any, error) {
	var node kql.Node
	var names []string
	lucene := r.Language == "lucene"
	if !lucene {
		n, err := kql.Parse(r.Query)
		if err != nil {
			return nil, fmt.Errorf("parse query of rule %s: %w", r.RuleID, err)
		}
		node, names = n, kql.FieldNames(n)
	}
	for _, f := range rule.FilterFields(r.Filters) {
		if !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	var fields []kql.FieldSpec
	if fc != nil && len(names) > 0 {
		specs, err := fc(ctx, r.Index, names)
		if err != nil {
			return nil, fmt.Errorf("get field capabilities for rule %s: %w", r.RuleID, err)
		}
		if len(specs) > 0 {
			fields = specs
		}
	}
	must, filter, should, mustNot := []any{}, []any{}, []any{}, []any{}
	if lucene {
		must = append(must, rule.LuceneClause(r.Query))
	} else {
		clause, err := kql.ToDSL(node, kql.DetectionEngine(fields))
		if err != nil {
			return nil, fmt.Errorf("translate query of rule %s: %w", r.RuleID, err)
		}
		filter = append(filter, clause)
	}
	ff, fmn, err := rule.FilterClauses(r.Filters, fields)
	if err != nil {
		return nil, fmt.Errorf("apply filters of rule %s: %w", r.RuleID, err)
	}
	filter = append(filter, ff...)
	mustNot = append(mustNot, fmn...)
	return map[string]any{"bool": map[string]any{
		"must":     withoutMatchAll(must),
		"filter":   withoutMatchAll(filter),
		"should":   should,
		"must_not": mustNot,
	}}, nil
}

// withoutMatchAll is buildEsQuery's removeMatchAll.
func withoutMatchAll(clauses []any) []any {
	out := make([]any, 0, len(clauses))
	for _, c := range clauses {
		if !rule.IsMatchAll(c) {
			out = append(out, c)
		}
	}
	return out
}
