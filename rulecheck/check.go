package rulecheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/esrule/esrule/rule"
)

// ErrNoSecurity is returned by Client.HasPrivileges when the cluster has no
// security (every index is readable).
var ErrNoSecurity = errors.New("security is not enabled")

// Client is what Check asks Elasticsearch.
type Client interface {
	// FieldCaps returns the body of _field_caps for fields over indices with
	// include_unmapped, ignore_unavailable and allow_no_indices.
	FieldCaps(ctx context.Context, indices, fields []string) ([]byte, error)
	// HasPrivileges returns, per index pattern, the privileges among
	// privileges that the current user lacks; ErrNoSecurity without security.
	HasPrivileges(ctx context.Context, patterns, privileges []string) (map[string][]string, error)
}

// SourcePrivileges are the index privileges esrule needs on source indices
// (deploy/roles/esrule-runner.json): read covers search and field caps.
var SourcePrivileges = []string{"read"}

// caps is a decoded _field_caps response.
type caps struct {
	Indices []string                       `json:"indices"`
	Fields  map[string]map[string]typeCaps `json:"fields"`
}

type typeCaps struct {
	Type                   string   `json:"type"`
	Searchable             bool     `json:"searchable"`
	Aggregatable           bool     `json:"aggregatable"`
	Indices                []string `json:"indices"`
	NonAggregatableIndices []string `json:"non_aggregatable_indices"`
}

// dateTypes are the types a timestamp override may have.
var dateTypes = []string{"date", "date_nanos"}

// Check returns every problem of r on the cluster c talks to, as rule
// problems located at the rule (Field is the rule parameter concerned).
func Check(ctx context.Context, c Client, r *rule.Rule) ([]rule.Problem, error) {
	uses, err := Uses(r)
	if err != nil {
		return nil, err
	}
	file, line := rule.SplitOrigin(r.Origin)
	var problems []rule.Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, rule.Problem{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	// Patterns that match nothing, and why.
	var empty []string
	for _, p := range r.Index {
		body, err := c.FieldCaps(ctx, []string{p}, []string{"_index"})
		if err != nil {
			return nil, fmt.Errorf("check index pattern %s of rule %s: %w", p, r.RuleID, err)
		}
		var pc caps
		if err := json.Unmarshal(body, &pc); err != nil {
			return nil, fmt.Errorf("decode field caps of %s: %w", p, err)
		}
		if len(pc.Indices) == 0 {
			empty = append(empty, p)
		}
	}
	if len(empty) > 0 {
		lacking, err := c.HasPrivileges(ctx, empty, SourcePrivileges)
		if err != nil && !errors.Is(err, ErrNoSecurity) {
			return nil, fmt.Errorf("check privileges of rule %s: %w", r.RuleID, err)
		}
		for _, p := range empty {
			if missing := lacking[p]; len(missing) > 0 {
				add("index", "index pattern %q matches no index this user can read: it lacks the %s privilege on it", p, strings.Join(missing, " and "))
				continue
			}
			add("index", "index pattern %q matches no index", p)
		}
	}
	if len(empty) == len(r.Index) {
		return problems, nil // no index to check fields against
	}

	names := make([]string, len(uses))
	for i, u := range uses {
		names[i] = u.Field
	}
	body, err := c.FieldCaps(ctx, r.Index, names)
	if err != nil {
		return nil, fmt.Errorf("get field caps of rule %s: %w", r.RuleID, err)
	}
	var fc caps
	if err := json.Unmarshal(body, &fc); err != nil {
		return nil, fmt.Errorf("decode field caps of rule %s: %w", r.RuleID, err)
	}
	where := strings.Join(r.Index, ", ")
	for _, u := range uses {
		role := u.Roles[0]
		matched := fc.matching(u.Field)
		if len(matched) == 0 {
			add(role, "field %q is not mapped in any index matching %s", u.Field, where)
			continue
		}
		for _, name := range matched {
			types := fc.Fields[name]
			mapped := mappedTypes(types)
			if len(mapped) > 1 {
				add(role, "field %q has conflicting types: %s", name, describeTypes(types))
			}
			if slices.Contains(u.Roles, RoleNewTerms) {
				for _, t := range mapped {
					tc := types[t]
					if !tc.Aggregatable {
						add(RoleNewTerms, "field %q cannot be aggregated (type %s%s); new-terms fields need keyword, numeric, ip, boolean or date fields", name, t, in(tc.Indices))
					} else if len(tc.NonAggregatableIndices) > 0 {
						add(RoleNewTerms, "field %q cannot be aggregated in %s", name, strings.Join(tc.NonAggregatableIndices, ", "))
					}
				}
			}
			if slices.Contains(u.Roles, RoleTimestamp) {
				for _, t := range mapped {
					if !slices.Contains(dateTypes, t) {
						add(RoleTimestamp, "field %q has type %s%s; a timestamp override must be a date or date_nanos field", name, t, in(types[t].Indices))
					}
				}
			}
		}
	}
	return problems, nil
}

// matching returns the response fields a name (possibly with wildcards)
// refers to that some index maps.
func (c caps) matching(name string) []string {
	var out []string
	for f, types := range c.Fields {
		if len(mappedTypes(types)) == 0 {
			continue
		}
		if f == name {
			return []string{f}
		}
		if strings.Contains(name, "*") {
			if ok, _ := path.Match(name, f); ok {
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out
}

// mappedTypes are the types of a field other than unmapped, object and
// nested, sorted.
func mappedTypes(types map[string]typeCaps) []string {
	var out []string
	for t := range types {
		if t != "unmapped" && t != "object" && t != "nested" {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func describeTypes(types map[string]typeCaps) string {
	var parts []string
	for _, t := range mappedTypes(types) {
		parts = append(parts, t+in(types[t].Indices))
	}
	return strings.Join(parts, ", ")
}

// in is " in a, b" for a list of indices, or "".
func in(indices []string) string {
	if len(indices) == 0 {
		return ""
	}
	const most = 5
	if len(indices) > most {
		return fmt.Sprintf(" in %s and %d more", strings.Join(indices[:most], ", "), len(indices)-most)
	}
	return " in " + strings.Join(indices, ", ")
}
