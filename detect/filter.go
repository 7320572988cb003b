package detect

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

// QueryFilter builds the rule's query filter (Kibana's esFilter, §2.5): the
// KQL query translated in typed mode with the field specs fc finds for the
// query's fields over the rule's indices, or untyped when fc is nil or finds
// nothing, plus the rule's enabled Kibana filters. All phases use it.
func QueryFilter(ctx context.Context, fc FieldCapsFunc, r *rule.Rule) (map[string]any, error) {
	n, err := kql.Parse(r.Query)
	if err != nil {
		return nil, fmt.Errorf("parse query of rule %s: %w", r.RuleID, err)
	}
	var fields []kql.FieldSpec
	if names := kql.FieldNames(n); fc != nil && len(names) > 0 {
		specs, err := fc(ctx, r.Index, names)
		if err != nil {
			return nil, fmt.Errorf("get field capabilities for rule %s: %w", r.RuleID, err)
		}
		if len(specs) > 0 {
			fields = specs
		}
	}
	q, err := kql.BuildEsQuery(r.Query, kql.DetectionEngine(fields))
	if err != nil {
		return nil, fmt.Errorf("translate query of rule %s: %w", r.RuleID, err)
	}
	if err := addFilters(q, r.Filters); err != nil {
		return nil, fmt.Errorf("apply filters of rule %s: %w", r.RuleID, err)
	}
	return q, nil
}

// kibanaFilter is the part of a Kibana filter object that matters here.
type kibanaFilter struct {
	Meta struct {
		Negate   bool `json:"negate"`
		Disabled bool `json:"disabled"`
	} `json:"meta"`
	Query map[string]any `json:"query"`
}

// addFilters adds Kibana filter objects to the bool query q (buildEsQuery's
// wrapper): enabled filters go to bool.filter, negated ones to bool.must_not.
// A filter without "query" is a legacy one whose clause is its other keys.
func addFilters(q map[string]any, filters []json.RawMessage) error {
	if len(filters) == 0 {
		return nil
	}
	b, ok := q["bool"].(map[string]any)
	if !ok {
		b = map[string]any{"filter": []any{q}}
		for k := range q {
			delete(q, k)
		}
		q["bool"] = b
	}
	for i, raw := range filters {
		var f kibanaFilter
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("filter %d: %w", i, err)
		}
		if f.Meta.Disabled {
			continue
		}
		clause := f.Query
		if clause == nil {
			var all map[string]any
			if err := json.Unmarshal(raw, &all); err != nil {
				return fmt.Errorf("filter %d: %w", i, err)
			}
			delete(all, "meta")
			delete(all, "$state")
			clause = all
		}
		if len(clause) == 0 {
			return fmt.Errorf("filter %d has no query", i)
		}
		key := "filter"
		if f.Meta.Negate {
			key = "must_not"
		}
		list, _ := b[key].([]any)
		b[key] = append(list, clause)
	}
	return nil
}
