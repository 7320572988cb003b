package rule

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func validRule() *Rule {
	return &Rule{
		RuleID: "r1", Name: "n", Description: "d", Type: TypeNewTerms, Query: "a:b", Index: []string{"i"},
		NewTermsFields: []string{"a"}, HistoryWindowStart: "now-1d", Severity: "low", Origin: "code",
	}
}

func TestValidate(t *testing.T) {
	risk := 150
	tests := []struct {
		name   string
		change func(r *Rule)
		want   []string // "field: reason" substrings, one per problem
	}{
		{"valid with defaults", func(*Rule) {}, nil},
		{"explicit defaults", func(r *Rule) { r.ApplyDefaults() }, nil},
		{"missing basics", func(r *Rule) { r.RuleID, r.Name, r.Description, r.Query = "", " ", "", "" },
			[]string{"rule_id: is required", "name: is required", "description: is required", "query: is required"}},
		{"another type reports only the type", func(r *Rule) { r.Type, r.NewTermsFields, r.Query = "threshold", nil, "" },
			[]string{`type: rule type "threshold" is not supported`}},
		{"missing type", func(r *Rule) { r.Type = "" }, []string{"type: is required"}},
		{"esql language", func(r *Rule) { r.Language = "esql" }, []string{`language: "esql" is not a new_terms query language`}},
		{"empty index entry", func(r *Rule) { r.Index = []string{"a", " "} }, []string{"index[1]: is empty"}},
		{"no index", func(r *Rule) { r.Index = nil }, []string{"index: is required"}},
		{"history equal to from", func(r *Rule) { r.From, r.HistoryWindowStart = "now-1h", "now-60m" },
			[]string{"history_window_start: History window size is smaller"}},
		{"history rounded after from", func(r *Rule) { r.From, r.HistoryWindowStart = "now-1d/d", "now/d" },
			[]string{"history_window_start: History window size is smaller"}},
		{"history missing", func(r *Rule) { r.HistoryWindowStart = "" }, []string{"history_window_start: is required"}},
		{"bad interval", func(r *Rule) { r.Interval = "1w" }, []string{`interval: parse interval "1w"`}},
		{"negative max_signals", func(r *Rule) { r.MaxSignals = -1 }, []string{"max_signals: must be at least 1"}},
		{"negative version", func(r *Rule) { r.Version = -1 }, []string{"version: must be at least 1"}},
		{"risk score", func(r *Rule) { r.RiskScore = -1 }, []string{"risk_score: must be between 0 and 100"}},
		{"severity missing", func(r *Rule) { r.Severity = "" }, []string{"severity: is required"}},
		{"severity mapping", func(r *Rule) {
			r.SeverityMapping = []SeverityMapping{{Field: "", Operator: "gt", Severity: "huge"}}
		}, []string{"severity_mapping[0].severity", "severity_mapping[0].field: is required", `severity_mapping[0].operator: want "equals"`}},
		{"risk score mapping", func(r *Rule) {
			r.RiskScoreMapping = []RiskScoreMapping{{Field: "x", Operator: "equals", RiskScore: &risk}}
		}, []string{"risk_score_mapping[0].risk_score: must be between 0 and 100, got 150"}},
		{"threat", func(r *Rule) {
			r.Threat = []Threat{{Tactic: ThreatRef{ID: "TA0001"}, Technique: []Technique{{ThreatRef: ThreatRef{Name: "x"}}}}}
		}, []string{"threat[0].framework: is required", "threat[0].tactic: needs an id and a name", "threat[0].technique[0]: needs an id and a name"}},
		{"building block", func(r *Rule) { r.BuildingBlockType = "yes" }, []string{`building_block_type: want "default"`}},
		{"exception lists", func(r *Rule) {
			r.ExceptionsList = []json.RawMessage{json.RawMessage(`{"list_id":"l","id":"x"}`), json.RawMessage(`{"id":"y"}`)}
		}, []string{`code: exceptions_list[0]: exception list "l" cannot be resolved: esrule has no exception lists`,
			`exceptions_list[1]: exception list "y" cannot be resolved`}},
		{"space", func(r *Rule) { r.Space = "Bad Space" }, []string{`space: "Bad Space" is not a Kibana space id`}},
		{"filters must be objects", func(r *Rule) {
			r.Filters = []json.RawMessage{json.RawMessage(`{"query":{}}`), json.RawMessage(`[]`)}
		}, []string{"filters[0]: query: want a query DSL object", "filters[1]: want a Kibana filter object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := validRule()
			tc.change(r)
			ps := r.Validate()
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.String()
				require.Equal(t, "code", p.File)
			}
			require.Len(t, got, len(tc.want), strings.Join(got, "\n"))
			for _, w := range tc.want {
				require.True(t, containsOne(got, w), "want %q in:\n%s", w, strings.Join(got, "\n"))
			}
		})
	}
}

func TestValidateKQL(t *testing.T) {
	r := validRule()
	r.Query = "a:(b or"
	ps := r.Validate()
	require.Len(t, ps, 1)
	require.Equal(t, "query", ps[0].Field)
	require.Contains(t, ps[0].Reason, "invalid KQL at character 7")
}

func TestTOMLKeyLines(t *testing.T) {
	src := `[rule]
name = "x"
note = """
risk_score = 1
"""
"quoted" = 1
query = '''
a:b
'''
[rule.new_terms]
value = ["a"]
[[rule.new_terms.history_window_start]]
value = "now-7d"
[[rule.threat]]
framework = "MITRE ATT&CK"
`
	lines := tomlKeyLines(src)
	require.Equal(t, map[string]int{
		"rule": 1, "rule.name": 2, "rule.note": 3, "rule.quoted": 6, "rule.query": 7,
		"rule.new_terms": 10, "rule.new_terms.value": 11,
		"rule.new_terms.history_window_start": 12, "rule.new_terms.history_window_start.value": 13,
		"rule.threat": 14, "rule.threat.framework": 15,
	}, lines)
	require.Equal(t, 8, queryLine(src, 7, "a:b\n", 2))
}
