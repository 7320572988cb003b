// Package rulecheck checks rules against the cluster they will run on: with
// _field_caps over each rule's index patterns it finds patterns that match no
// index, fields of the query, the filters, the new-terms fields and the
// timestamp override that no index maps, fields whose types conflict, and
// fields whose type the rule cannot use; with _has_privileges it names the
// privilege lacking where a pattern is unreadable. These are the mistakes
// that otherwise make a rule succeed forever without ever alerting.
package rulecheck

import (
	"fmt"
	"slices"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

// Roles of a field in a rule, named by the rule parameter that uses it.
const (
	RoleNewTerms  = "new_terms_fields"
	RoleTimestamp = "timestamp_override"
	RoleQuery     = "query"
	RoleFilters   = "filters"
)

// Use is one field a rule refers to and the parameters that refer to it.
type Use struct {
	Field string
	Roles []string
}

// Uses lists the fields r refers to: new-terms fields, the timestamp
// override, the query's fields (KQL, or the "name:" fields of a Lucene
// query) and the filters' fields, in that order, each once.
func Uses(r *rule.Rule) ([]Use, error) {
	var uses []Use
	add := func(field, role string) {
		for i := range uses {
			if uses[i].Field == field {
				if !slices.Contains(uses[i].Roles, role) {
					uses[i].Roles = append(uses[i].Roles, role)
				}
				return
			}
		}
		uses = append(uses, Use{Field: field, Roles: []string{role}})
	}
	for _, f := range r.NewTermsFields {
		add(f, RoleNewTerms)
	}
	if r.TimestampOverride != "" {
		add(r.TimestampOverride, RoleTimestamp)
	}
	if r.Language == "lucene" {
		for _, f := range rule.LuceneFields(r.Query) {
			add(f, RoleQuery)
		}
	} else {
		n, err := kql.Parse(r.Query)
		if err != nil {
			return nil, fmt.Errorf("parse query of rule %s: %w", r.RuleID, err)
		}
		for _, f := range kql.FieldNames(n) {
			add(f, RoleQuery)
		}
	}
	for _, f := range rule.FilterFields(r.Filters) {
		add(f, RoleFilters)
	}
	return uses, nil
}
