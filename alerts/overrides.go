package alerts

import (
	"math"
	"sort"

	"github.com/esrule/esrule/rule"
)

var severityRank = map[string]int{"low": 0, "medium": 1, "high": 2, "critical": 3}

// sortSeverityMapping returns the mapping sorted low→high (stable), as
// Kibana's buildSeverityFromMapping sorts the rule's array in place, which is
// why the sorted order also shows in the alert's rule fields.
func sortSeverityMapping(m []rule.SeverityMapping) []rule.SeverityMapping {
	if len(m) == 0 {
		return m
	}
	out := append([]rule.SeverityMapping(nil), m...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, okI := severityRank[out[i].Severity]
		rj, okJ := severityRank[out[j].Severity]
		return okI && okJ && ri < rj
	})
	return out
}

// severityFromMapping is buildSeverityFromMapping: the last (highest) entry
// of the sorted mapping whose value equals the event value wins. Values
// compare as strings (numbers only if safe integers), except event.severity,
// which compares numerically with floor(Number(mapping value)).
func severityFromMapping(source map[string]any, severity string, sorted []rule.SeverityMapping) string {
	var match *rule.SeverityMapping
	for i := range sorted {
		m := &sorted[i]
		values := asArray(lodashGet(source, m.Field))
		if m.Field == "event.severity" {
			want, ok := jsNumberFromString(m.Value)
			if !ok {
				continue
			}
			want = math.Floor(want)
			for _, v := range values {
				if f, _ := toFloat(v); isSafeInteger(v) && f == want {
					match = m
					break
				}
			}
			continue
		}
		for _, v := range values {
			s, isString := v.(string)
			if !isString && !isSafeInteger(v) {
				continue
			}
			if !isString {
				s = jsString(v)
			}
			if s == m.Value {
				match = m
				break
			}
		}
	}
	if match != nil {
		if _, ok := severityRank[match.Severity]; ok {
			return match.Severity
		}
	}
	return severity
}

// riskScoreFromMapping is buildRiskScoreFromMapping: the maximum of the
// values at the first mapping's field that are numbers (or numeric strings)
// within [0, 100]; otherwise the rule's score. ok reports an override.
func riskScoreFromMapping(source map[string]any, mapping []rule.RiskScoreMapping) (float64, bool) {
	if len(mapping) == 0 {
		return 0, false
	}
	best, found := 0.0, false
	for _, v := range asArray(lodashGet(source, mapping[0].Field)) {
		var f float64
		var ok bool
		if s, isString := v.(string); isString {
			f, ok = jsNumberFromString(s)
		} else {
			f, ok = toFloat(v)
		}
		if !ok || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 || f > 100 {
			continue
		}
		if !found || f > best {
			best, found = f, true
		}
	}
	return best, found
}

// ruleNameFromMapping is buildRuleNameFromMapping: a string at the override
// path replaces the rule name.
func ruleNameFromMapping(source map[string]any, name, override string) string {
	if override == "" {
		return name
	}
	if s, ok := lodashGet(source, override).(string); ok {
		return s
	}
	return name
}

func asArray(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}
