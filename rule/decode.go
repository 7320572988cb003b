package rule

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// decoder turns one rule in Kibana's flat API shape (a map decoded from JSON
// or from a flattened TOML [rule] table) into a Rule, recording every value
// of the wrong type as a problem instead of stopping at the first.
type decoder struct {
	file     string
	problems []Problem
	// bad holds the fields that had a type problem, so validation does not
	// report them a second time as missing.
	bad map[string]bool
}

func newDecoder(file string) *decoder { return &decoder{file: file, bad: map[string]bool{}} }

func (d *decoder) wrong(field, want string, got any) {
	d.bad[field] = true
	d.problems = append(d.problems, Problem{File: d.file, Field: field,
		Reason: fmt.Sprintf("want %s, got %s", want, describe(got))})
}

// describe names a decoded value's type for messages: string "high", integer 5, ...
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case int64, json.Number, float64:
		return fmt.Sprintf("number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a table/object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func (d *decoder) str(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.wrong(key, "a string", v)
	}
	return s
}

func (d *decoder) strList(m map[string]any, key string) []string {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		d.wrong(key, "a list of strings", v)
		return nil
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			d.wrong(fmt.Sprintf("%s[%d]", key, i), "a string", e)
			d.bad[key] = true
			continue
		}
		out = append(out, s)
	}
	return out
}

// integer returns the value and whether the key was present with an integer.
func (d *decoder) integer(m map[string]any, key string) (int, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false
	}
	n, ok := asInt(v)
	if !ok {
		if big, isInt := outOfRangeInt(v); isInt {
			d.bad[key] = true
			d.problems = append(d.problems, Problem{File: d.file, Field: key, Reason: fmt.Sprintf(
				"%s is out of range: Kibana's rule schema takes integers from %d to %d", big, math.MinInt32, math.MaxInt32)})
			return 0, false
		}
		d.wrong(key, "an integer", v)
		return 0, false
	}
	return n, true
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, false
		}
		return int(x), true
	case json.Number:
		n, err := x.Int64()
		if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

func (d *decoder) boolean(m map[string]any, key string, def bool) bool {
	v, ok := m[key]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		d.wrong(key, "true or false", v)
		return def
	}
	return b
}

// rawList keeps a list's entries as JSON (filters, exceptions_list).
func (d *decoder) rawList(m map[string]any, key string) []json.RawMessage {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if tables, isTables := v.([]map[string]any); isTables {
		// A TOML array of tables ([[rule.filters]]).
		list, ok = make([]any, len(tables)), true
		for i, t := range tables {
			list[i] = t
		}
	}
	if !ok {
		d.wrong(key, "a list", v)
		return nil
	}
	out := make([]json.RawMessage, 0, len(list))
	for _, e := range list {
		b, err := json.Marshal(e)
		if err != nil {
			d.wrong(key, "a list of JSON values", e)
			return nil
		}
		out = append(out, b)
	}
	return out
}

// via decodes a nested structure (threat, mappings, meta) by a JSON round trip
// into dst, reporting the JSON decoder's complaint on failure.
func (d *decoder) via(m map[string]any, key string, dst any, want string) {
	v, ok := m[key]
	if !ok || v == nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		err = dec.Decode(dst)
	}
	if err != nil {
		d.bad[key] = true
		d.problems = append(d.problems, Problem{File: d.file, Field: key,
			Reason: fmt.Sprintf("want %s: %s", want, strings.TrimPrefix(err.Error(), "json: "))})
	}
}

// requiredKeys must be present in a rule file (Kibana's required parameters
// for a new_terms rule, plus rule_id and index which esrule cannot default).
var requiredKeys = []string{
	"rule_id", "name", "description", "type", "query", "index",
	"new_terms_fields", "history_window_start", "risk_score", "severity",
}

// decodeRule builds a Rule from Kibana's flat API shape. Validation problems
// are left to Rule.validate; only missing keys and wrong types are reported.
func (d *decoder) decodeRule(m map[string]any) *Rule {
	r := &Rule{
		ID:                                d.str(m, "id"),
		RuleID:                            d.str(m, "rule_id"),
		Name:                              d.str(m, "name"),
		Description:                       d.str(m, "description"),
		Type:                              d.str(m, "type"),
		Language:                          d.str(m, "language"),
		Query:                             d.str(m, "query"),
		Index:                             d.strList(m, "index"),
		Filters:                           d.rawList(m, "filters"),
		NewTermsFields:                    d.strList(m, "new_terms_fields"),
		HistoryWindowStart:                d.str(m, "history_window_start"),
		From:                              d.str(m, "from"),
		To:                                d.str(m, "to"),
		Interval:                          d.str(m, "interval"),
		TimestampOverride:                 d.str(m, "timestamp_override"),
		TimestampOverrideFallbackDisabled: d.boolean(m, "timestamp_override_fallback_disabled", false),
		Severity:                          d.str(m, "severity"),
		RuleNameOverride:                  d.str(m, "rule_name_override"),
		BuildingBlockType:                 d.str(m, "building_block_type"),
		Tags:                              d.strList(m, "tags"),
		References:                        d.strList(m, "references"),
		Author:                            d.strList(m, "author"),
		FalsePositives:                    d.strList(m, "false_positives"),
		License:                           d.str(m, "license"),
		Note:                              d.str(m, "note"),
		Setup:                             d.str(m, "setup"),
		ExceptionsList:                    d.rawList(m, "exceptions_list"),
		Enabled:                           d.boolean(m, "enabled", true),
		Space:                             d.str(m, "space_id"),
		DataViewID:                        d.str(m, "data_view_id"),
	}
	r.RiskScore, _ = d.integer(m, "risk_score")
	if n, ok := d.integer(m, "max_signals"); ok {
		if n < 1 {
			d.bad["max_signals"] = true
			d.problems = append(d.problems, Problem{File: d.file, Field: "max_signals",
				Reason: fmt.Sprintf("must be at least 1, got %d", n)})
		}
		r.MaxSignals = n
	}
	if n, ok := d.integer(m, "version"); ok {
		if n < 1 {
			d.bad["version"] = true
			d.problems = append(d.problems, Problem{File: d.file, Field: "version",
				Reason: fmt.Sprintf("must be at least 1, got %d", n)})
		}
		r.Version = n
	}
	d.via(m, "threat", &r.Threat, "a list of {framework, tactic, technique} entries")
	d.via(m, "severity_mapping", &r.SeverityMapping, "a list of {field, operator, value, severity} entries")
	d.via(m, "risk_score_mapping", &r.RiskScoreMapping, "a list of {field, operator, value, risk_score} entries")
	d.via(m, "meta", &r.Meta, "an object")
	if t, ok := m["type"].(string); ok && t != "" && t != TypeNewTerms {
		return r // validation refuses the type; the rest would be noise
	}
	d.problems = append(d.problems, checkRuleKeys(d.file, m)...)
	for _, k := range requiredKeys {
		if k == "index" && r.DataViewID != "" {
			continue // validation explains that the data view's patterns are needed
		}
		if v, ok := m[k]; (!ok || v == nil) && !d.bad[k] {
			d.bad[k] = true // reported here; validation would repeat it
			d.problems = append(d.problems, Problem{File: d.file, Field: k, Reason: "is required"})
		}
	}
	return r
}

// exceptionListName identifies an exceptions_list entry for messages.
func exceptionListName(raw json.RawMessage) string {
	var ref struct {
		ListID string `json:"list_id"`
		ID     string `json:"id"`
	}
	if json.Unmarshal(raw, &ref) == nil {
		switch {
		case ref.ListID != "":
			return fmt.Sprintf("%q", ref.ListID)
		case ref.ID != "":
			return fmt.Sprintf("%q", ref.ID)
		}
	}
	return string(raw)
}
