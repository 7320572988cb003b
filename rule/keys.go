package rule

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/esrule/esrule/internal/suggest"
)

// ruleKeys are the rule parameters esrule reads (Kibana's API names, plus the
// esrule extension space_id).
var ruleKeys = []string{
	"id", "rule_id", "name", "description", "type", "language", "query", "index",
	"data_view_id", "filters", "new_terms_fields", "history_window_start", "from", "to",
	"interval", "max_signals", "timestamp_override", "timestamp_override_fallback_disabled",
	"severity", "risk_score", "severity_mapping", "risk_score_mapping", "rule_name_override",
	"building_block_type", "threat", "tags", "references", "author", "false_positives",
	"license", "note", "setup", "version", "exceptions_list", "meta", "enabled", "space_id",
}

// ignoredRuleKeys are keys that detection-rules files and Kibana exports
// carry but that change nothing esrule computes: documentation for analysts,
// integration metadata, timeline templates, and the attributes Kibana keeps
// about the saved object. They are accepted and dropped.
var ignoredRuleKeys = []string{
	"investigation_fields", "related_integrations", "required_fields", "timeline_id",
	"timeline_title", "output_index", "namespace", "throttle", "immutable", "rule_source",
	"created_at", "created_by", "updated_at", "updated_by", "revision", "execution_summary",
	"outcome", "alias_target_id", "alias_purpose",
}

// emptyOnlyRuleKeys are keys Kibana exports always carry, usually empty; an
// empty value is accepted, anything else changes what happens when the rule
// runs and is refused.
var emptyOnlyRuleKeys = map[string]string{
	"actions":          "rule actions are not run by esrule; remove them and configure notifications in the actions file (--actions)",
	"response_actions": "response actions are not supported; remove them",
}

// unsupportedRuleKeys change what a rule detects; esrule refuses them by name
// rather than run a different rule than the file describes.
var unsupportedRuleKeys = map[string]string{
	"alert_suppression":       "alert suppression is not supported; remove it (Kibana needs a Platinum licence for it)",
	"threshold":               "threshold belongs to threshold rules; esrule runs new_terms rules only",
	"saved_id":                "saved queries cannot be resolved without Kibana; put the query in query",
	"threat_query":            "indicator match parameters are not supported; esrule runs new_terms rules only",
	"threat_index":            "indicator match parameters are not supported; esrule runs new_terms rules only",
	"threat_mapping":          "indicator match parameters are not supported; esrule runs new_terms rules only",
	"threat_filters":          "indicator match parameters are not supported; esrule runs new_terms rules only",
	"threat_indicator_path":   "indicator match parameters are not supported; esrule runs new_terms rules only",
	"threat_language":         "indicator match parameters are not supported; esrule runs new_terms rules only",
	"anomaly_threshold":       "machine learning parameters are not supported; esrule runs new_terms rules only",
	"machine_learning_job_id": "machine learning parameters are not supported; esrule runs new_terms rules only",
	"event_category_override": "EQL parameters are not supported; esrule runs new_terms rules only",
	"tiebreaker_field":        "EQL parameters are not supported; esrule runs new_terms rules only",
	"timestamp_field":         "EQL parameters are not supported; esrule runs new_terms rules only",
	"items_per_search":        "indicator match parameters are not supported; esrule runs new_terms rules only",
	"concurrent_searches":     "indicator match parameters are not supported; esrule runs new_terms rules only",
}

// Top-level tables of a detection-rules TOML file and keys of its
// [rule.new_terms] table.
var (
	tomlTables       = []string{"metadata", "rule", "transform"}
	newTermsKeys     = []string{"field", "value", "history_window_start"}
	historyEntryKeys = []string{"field", "value"}
)

// checkRuleKeys reports every key of m that is neither read nor knowingly
// ignored: unsupported parameters by name, anything else as unknown with the
// nearest known key.
func checkRuleKeys(file string, m map[string]any) []Problem {
	var problems []Problem
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains(ruleKeys, k) || slices.Contains(ignoredRuleKeys, k) {
			continue
		}
		if why, ok := emptyOnlyRuleKeys[k]; ok {
			if !isEmptyValue(m[k]) {
				problems = append(problems, Problem{File: file, Field: k, Reason: why})
			}
			continue
		}
		if why, ok := unsupportedRuleKeys[k]; ok {
			if m[k] != nil {
				problems = append(problems, Problem{File: file, Field: k, Reason: why})
			}
			continue
		}
		problems = append(problems, Problem{File: file, Field: k, Reason: unknownKey(k, allRuleKeys())})
	}
	return problems
}

// checkKeys reports keys of m outside known, as unknown with the nearest
// known one; field names are prefix + key.
func checkKeys(file, prefix string, m map[string]any, known []string) []Problem {
	var problems []Problem
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(known, k) {
			problems = append(problems, Problem{File: file, Field: prefix + k, Reason: unknownKey(k, known)})
		}
	}
	return problems
}

// unknownKey is the message for a key nobody reads.
func unknownKey(key string, known []string) string {
	if s := suggest.Nearest(key, known); s != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", s)
	}
	return "unknown key"
}

func allRuleKeys() []string {
	all := slices.Concat(ruleKeys, ignoredRuleKeys)
	for k := range emptyOnlyRuleKeys {
		all = append(all, k)
	}
	for k := range unsupportedRuleKeys {
		all = append(all, k)
	}
	sort.Strings(all)
	return slices.Compact(all)
}

// isEmptyValue is true for nil, "", an empty list and an empty table.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []map[string]any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// tomlKeyProblems reports the unknown top-level tables of a detection-rules
// file and the unknown keys of its [rule.new_terms] tables, with their lines.
// The keys of [rule] itself are checked by the decoder like any rule's.
func tomlKeyProblems(file string, doc map[string]any, lines map[string]int) []Problem {
	var problems []Problem
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		if slices.Contains(tomlTables, k) {
			continue
		}
		problems = append(problems, Problem{File: file, Line: lines[k], Field: k,
			Reason: unknownKey(k, tomlTables) + " (a detection-rules file has [metadata], [rule] and [transform])"})
	}
	rule, _ := doc["rule"].(map[string]any)
	nt, _ := rule["new_terms"].(map[string]any)
	if nt == nil {
		return problems
	}
	for _, p := range checkKeys(file, "new_terms.", nt, newTermsKeys) {
		p.Line = lines["rule."+p.Field]
		problems = append(problems, p)
	}
	hws, _ := nt["history_window_start"].([]map[string]any)
	for _, e := range hws {
		for _, p := range checkKeys(file, "new_terms.history_window_start.", e, historyEntryKeys) {
			p.Line = lines["rule."+p.Field]
			problems = append(problems, p)
		}
	}
	return problems
}
