package rule

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, ErrRuleInvalid)
	return ve.Problems
}

func TestLoadExampleRules(t *testing.T) {
	rules, err := Load([]string{"../rules"})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rules), 15)

	fieldCounts := map[int]int{}
	histories := map[string]bool{}
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			require.Empty(t, r.Validate())
			require.Equal(t, TypeNewTerms, r.Type)
			require.Equal(t, r.RuleID, r.ID, "id defaults to rule_id")
			require.Equal(t, "event.ingested", r.TimestampOverride)
			require.NotEmpty(t, r.Threat)
			require.Equal(t, DefaultSpace, r.Space)
			require.True(t, strings.HasSuffix(r.Origin, ".toml"))
		})
		fieldCounts[len(r.NewTermsFields)]++
		histories[r.HistoryWindowStart] = true
	}
	require.Len(t, fieldCounts, 3, "examples use 1, 2 and 3 fields")
	require.True(t, histories["now-12h"] && histories["now-30d"], "history from 12h to 30d")
}

func TestLoadPairVariant(t *testing.T) {
	rules, err := Load([]string{"../rules/okta/initial_access_first_occurrence_user_session_started_via_proxy_pair.toml"})
	require.NoError(t, err)
	require.Len(t, rules, 1)
	r, b := rules[0], Builtin()
	require.Equal(t, []string{"okta.actor.id", "cloud.account.id"}, r.NewTermsFields)
	require.Equal(t, b.RuleID, r.RuleID)
	require.Equal(t, b.Query, strings.TrimSpace(r.Query), "TOML keeps the query's final newline, as Kibana does")
	require.Equal(t, b.Index, r.Index)
	require.Equal(t, b.Tags, r.Tags)
	require.Equal(t, b.References, r.References)
	require.Equal(t, b.Threat, r.Threat)
	require.Equal(t, "now-6m", r.From)
	require.Equal(t, "5m", r.Interval)
	require.Equal(t, 100, r.MaxSignals)
}

func TestLoadGoodFiles(t *testing.T) {
	res, err := LoadFiles([]string{"testdata/good"})
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join("testdata", "good", "README.txt")}, res.Skipped)
	byName := map[string]*Rule{}
	for _, r := range res.Rules {
		byName[r.Name] = r
	}
	require.Len(t, byName, 4)

	t.Run("kibana export", func(t *testing.T) {
		r := byName["Exported New Terms Rule"]
		require.NotNil(t, r)
		require.Equal(t, "5b8c8a10-2f57-11ef-9e4c-0b1a2b3c4d5e", r.SavedObjectID())
		require.Equal(t, []string{"user.name", "source.ip"}, r.NewTermsFields)
		require.Equal(t, "now-14d", r.HistoryWindowStart)
		require.Equal(t, "now-10m", r.From)
		require.Equal(t, 50, r.MaxSignals)
		require.Equal(t, 3, r.Version)
		require.Equal(t, 73, r.RiskScore)
		require.Equal(t, []SeverityMapping{{Field: "event.severity", Operator: "equals", Value: "4", Severity: "critical"}}, r.SeverityMapping)
		require.Equal(t, "T1078.004", r.Threat[0].Technique[0].Subtechnique[0].ID)
		require.Equal(t, filepath.Join("testdata", "good", "kibana_export.ndjson")+":1", r.Origin)
		require.True(t, r.Enabled)
	})
	t.Run("kibana defaults", func(t *testing.T) {
		r := byName["Exported Rule With Defaults"]
		require.NotNil(t, r)
		require.Equal(t, DefaultFrom, r.From)
		require.Equal(t, DefaultTo, r.To)
		require.Equal(t, DefaultInterval, r.Interval)
		require.Equal(t, DefaultMaxSignals, r.MaxSignals)
		require.Equal(t, DefaultLanguage, r.Language)
		require.Equal(t, DefaultVersion, r.Version)
		require.False(t, r.Enabled)
		require.True(t, strings.HasSuffix(r.Origin, ":2"))
	})
	t.Run("toml defaults", func(t *testing.T) {
		r := byName["Minimal New Terms Rule"]
		require.NotNil(t, r)
		require.Equal(t, "00000000-0000-4000-8000-000000000001", r.ID)
		require.Equal(t, DefaultFrom, r.From)
		require.Equal(t, DefaultInterval, r.Interval)
		require.Equal(t, "event.dataset:proxy.access and user.name:*\n", r.Query)
		require.Empty(t, r.ExceptionsList)
		require.True(t, r.Enabled)
	})
	t.Run("single json", func(t *testing.T) {
		require.NotNil(t, byName["Single JSON Rule"])
	})
}

// badFiles maps each file in testdata/bad to the problems it must produce,
// as substrings of "file:line: field: reason", one per problem.
var badFiles = map[string][]string{
	"bad_datemath.toml": {
		`:18: from: parse date math "now-6x": missing or unknown unit`,
		`:19: to: parse date math "now-"`,
		`:30: history_window_start: parse date math "yesterday"`,
	},
	"bad_interval.toml":  {`:18: interval: parse interval "5 minutes"`},
	"zero_interval.toml": {`:18: interval: parse interval "0m": must be greater than zero`},
	"exceptions.ndjson":  {`:1: exceptions_list[0]: exception list "vip-users" cannot be resolved`},
	"exceptions.toml":    {`:18: exceptions_list[0]: exception list "trusted-proxies" cannot be resolved`},
	"fields_duplicate.toml": {
		`:25: new_terms_fields[1]: "user.name" is listed twice`,
		`:25: new_terms_fields[2]: is empty`,
	},
	"fields_empty.toml":    {`:25: new_terms_fields: is required: 1 to 3 fields`},
	"fields_too_many.toml": {`:25: new_terms_fields: has 4 fields; Kibana allows at most 3`},
	"from_after_to.toml":   {`:18: from: "now-1m" must be earlier than to "now-2m"`},
	"history_not_before_from.toml": {
		`:28: history_window_start: History window size is smaller than rule interval + additional lookback, 'historyWindowStart' must be earlier than 'from'`,
	},
	"invalid_json.ndjson": {`:2: invalid JSON`, `:3: invalid JSON: want a rule object, got a list`},
	"lucene.toml":         {`:19: query: invalid Lucene at character 14: the quoted phrase is not closed`},
	"missing_required.ndjson": {
		":1: rule_id: is required", ":1: name: is required", ":1: description: is required",
		":1: index: is required", ":1: new_terms_fields: is required", ":1: history_window_start: is required",
		":1: risk_score: is required", ":1: severity: is required",
	},
	"missing_required.toml": {
		":7: rule_id: is required", ":7: name: is required", ":7: description: is required", ":7: type: is required",
		":7: query: is required", ":7: index: is required", ":7: new_terms_fields: is required",
		":7: history_window_start: is required", ":7: risk_score: is required", ":7: severity: is required",
	},
	"new_terms_shape.toml": {
		`:25: new_terms_fields: [rule.new_terms] field must be "new_terms_fields", got string "fields"`,
		`:28: history_window_start: [[rule.new_terms.history_window_start]] field must be "history_window_start"`,
	},
	"no_rule_table.toml": {`no_rule_table.toml: no [rule] table`},
	"ranges.toml": {
		":14: risk_score: must be between 0 and 100, got 101",
		`:16: severity: "urgent" is not one of low, medium, high, critical`,
		":18: max_signals: must be at least 1, got 0",
	},
	"syntax_error.toml": {":6: invalid TOML: expected value but found '=' instead"},
	"type_eql.toml":     {`:17: type: rule type "eql" is not supported: esrule runs new_terms rules only`},
	"type_unknown.toml": {`:17: type: unknown rule type "brand_new"`},
	"unsupported_features.ndjson": {
		":1: alert_suppression: alert suppression is not supported",
		":1: filters[1]: want a Kibana filter object {meta, query}, got string \"match_all\"",
	},
	"unsupported_types.ndjson": {
		`:1: type: rule type "eql" is not supported`, `:2: type: rule type "esql" is not supported`,
		`:3: type: rule type "threshold" is not supported`, `:4: type: rule type "machine_learning" is not supported`,
		`:5: type: rule type "threat_match" is not supported`, `:6: type: rule type "query" is not supported`,
		`:7: type: rule type "saved_query" is not supported`,
	},
	"wrong_types.ndjson": {
		`:2: new_terms_fields: want a list of strings, got string "user.name"`,
		`:2: enabled: want true or false, got string "true"`,
		`:2: risk_score: want an integer, got string "high"`,
		`:2: threat: want a list of {framework, tactic, technique} entries`,
	},
	"wrong_types.toml": {
		`:10: index: want a list of strings, got string "logs-proxy-*"`,
		`:14: risk_score: want an integer, got string "high"`,
		`:18: max_signals: want an integer, got string "100"`,
		`:19: tags[1]: want a string, got number 2`,
		`:20: timestamp_override_fallback_disabled: want true or false, got string "yes"`,
	},
	"invalid_kql.toml": {`:21: query: invalid KQL at character`},
}

func TestLoadBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*")
	require.NoError(t, err)
	require.Len(t, files, len(badFiles), "every bad file has expectations")
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := badFiles[name]
			require.True(t, ok, "no expectations for %s", name)
			rules, err := Load([]string{file})
			require.Nil(t, rules, "no partial result")
			got := problemsOf(t, err)
			lines := make([]string, len(got))
			for i, p := range got {
				lines[i] = p.String()
				require.Equal(t, file, p.File)
			}
			require.Len(t, lines, len(want), "problems:\n%s", strings.Join(lines, "\n"))
			for _, w := range want {
				require.True(t, containsOne(lines, w), "want a problem containing %q in:\n%s", w, strings.Join(lines, "\n"))
			}
		})
	}
}

func containsOne(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestLoadReportsEveryFileAtOnce(t *testing.T) {
	rules, err := Load([]string{"testdata/good", "testdata/bad/ranges.toml", "testdata/bad/lucene.toml"})
	require.Nil(t, rules)
	ps := problemsOf(t, err)
	require.Len(t, ps, 6, "4 problems, and both bad files reuse the minimal rule's id")
	require.Contains(t, err.Error(), "6 rule problems")
	require.Contains(t, err.Error(), `testdata/bad/ranges.toml: id: duplicate rule id "00000000-0000-4000-8000-000000000001": also defined in testdata/good/minimal.toml`)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

func TestLoadDuplicateIDs(t *testing.T) {
	dir := t.TempDir()
	minimal := readTestdata(t, "good/minimal.toml")
	writeFile(t, filepath.Join(dir, "a.toml"), minimal)
	writeFile(t, filepath.Join(dir, "sub", "b.toml"), minimal)
	_, err := Load([]string{dir})
	ps := problemsOf(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, filepath.Join(dir, "sub", "b.toml"), ps[0].File)
	require.Equal(t, "id", ps[0].Field)
	require.Contains(t, ps[0].Reason, `duplicate rule id "00000000-0000-4000-8000-000000000001": also defined in `+filepath.Join(dir, "a.toml"))
}

func TestLoadDuplicateRuleIDWithDifferentIDs(t *testing.T) {
	dir := t.TempDir()
	line := strings.SplitN(readTestdata(t, "good/kibana_export.ndjson"), "\n", 2)[0]
	other := strings.Replace(line, `"id":"5b8c8a10-2f57-11ef-9e4c-0b1a2b3c4d5e"`, `"id":"other"`, 1)
	require.NotEqual(t, line, other)
	writeFile(t, filepath.Join(dir, "x.ndjson"), line+"\n"+other+"\n")
	_, err := Load([]string{dir})
	ps := problemsOf(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, 2, ps[0].Line)
	require.Equal(t, "rule_id", ps[0].Field)
	require.Contains(t, ps[0].Reason, filepath.Join(dir, "x.ndjson")+":1")
}

func TestLoadSamePathTwiceIsNotADuplicate(t *testing.T) {
	rules, err := Load([]string{"testdata/good/minimal.toml", "testdata/good", "./testdata/good/minimal.toml"})
	require.NoError(t, err)
	require.Len(t, rules, 4)
}

func TestLoadSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules", "r.toml"), readTestdata(t, "good/minimal.toml"))
	require.NoError(t, os.Symlink(filepath.Join(dir, "rules"), filepath.Join(dir, "rules", "loop")))

	_, err := Load([]string{filepath.Join(dir, "rules")})
	ps := problemsOf(t, err)
	require.Len(t, ps, 1)
	require.Contains(t, ps[0].Reason, "symbolic link loop")

	t.Run("link to a directory elsewhere is followed", func(t *testing.T) {
		other := t.TempDir()
		writeFile(t, filepath.Join(other, "real", "r.ndjson"), readTestdata(t, "good/kibana_export.ndjson"))
		writeFile(t, filepath.Join(other, "top", "keep.txt"), "")
		require.NoError(t, os.Symlink(filepath.Join(other, "real"), filepath.Join(other, "top", "linked")))
		rules, err := Load([]string{filepath.Join(other, "top")})
		require.NoError(t, err)
		require.Len(t, rules, 2)
	})
	t.Run("broken link", func(t *testing.T) {
		other := t.TempDir()
		writeFile(t, filepath.Join(other, "r.toml"), readTestdata(t, "good/minimal.toml"))
		require.NoError(t, os.Symlink(filepath.Join(other, "missing.toml"), filepath.Join(other, "dangling.toml")))
		_, err := Load([]string{other})
		ps := problemsOf(t, err)
		require.Len(t, ps, 1)
		require.Contains(t, ps[0].Reason, "follow symbolic link")
	})
}

func TestLoadFileSizeBound(t *testing.T) {
	dir := t.TempDir()
	big := readTestdata(t, "good/minimal.toml") + "\n# " + strings.Repeat("x", MaxFileSize) + "\n"
	writeFile(t, filepath.Join(dir, "big.toml"), big)
	_, err := Load([]string{dir})
	ps := problemsOf(t, err)
	require.Len(t, ps, 1)
	require.Contains(t, ps[0].Reason, "larger than 1048576 bytes")
}

func TestLoadPathProblems(t *testing.T) {
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, ".hidden.toml"), "not read")
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"missing path", []string{"testdata/nope"}, "read rules:"},
		{"unknown extension named explicitly", []string{"testdata/good/README.txt"}, `unknown rule file extension ".txt"`},
		{"directory without rules", []string{empty}, "no rules found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Load(tc.paths)
			require.Nil(t, rules)
			ps := problemsOf(t, err)
			require.Len(t, ps, 1)
			require.Contains(t, ps[0].Reason, tc.want)
		})
	}
}

func TestValidationErrorMatches(t *testing.T) {
	err := error(&ValidationError{Problems: []Problem{{File: "f", Line: 3, Field: "x", Reason: "bad"}}})
	require.True(t, errors.Is(err, ErrRuleInvalid))
	require.Equal(t, "invalid rule: f:3: x: bad", err.Error())
}

func TestRuleKeys(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/good/minimal.toml")
	require.NoError(t, err)
	write := func(name, extra string) string {
		p := filepath.Join(dir, name)
		s := strings.Replace(string(src), "[rule]\n", "[rule]\n"+extra, 1)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}

	_, err = Load([]string{write("typo.toml", "timestamp_overide = \"event.ingested\"\n")})
	require.EqualError(t, err, "invalid rule: "+filepath.Join(dir, "typo.toml")+":8: timestamp_overide: unknown key; did you mean timestamp_override?")

	_, err = Load([]string{write("unknown.toml", "flavour = \"vanilla\"\n")})
	require.ErrorContains(t, err, "flavour: unknown key")
	require.NotContains(t, err.Error(), "did you mean")

	ignored := "note = \"n\"\nsetup = \"s\"\ntimeline_id = \"t\"\ntimeline_title = \"tt\"\nrelated_integrations = [{package = \"okta\"}]\n" +
		"required_fields = [{name = \"a\", type = \"keyword\"}]\n[rule.investigation_fields]\nfield_names = [\"a\"]\n[transform]\n[[transform.osquery]]\nlabel = \"x\"\n[rule.\"new_terms\"]\n"
	p := write("ignored.toml", "")
	s, err := os.ReadFile(p)
	require.NoError(t, err)
	withIgnored := strings.Replace(string(s), "[rule.new_terms]\n", strings.TrimSuffix(ignored, "[rule.\"new_terms\"]\n")+"[rule.new_terms]\n", 1)
	require.NoError(t, os.WriteFile(p, []byte(withIgnored), 0o600))
	rules, err := Load([]string{p})
	require.NoError(t, err, withIgnored)
	require.Len(t, rules, 1)

	_, err = Load([]string{write("unsupported.toml", "threshold = {field = [\"a\"], value = 5}\nexceptions_list = [{list_id = \"l\", id = \"x\", namespace_type = \"single\", type = \"detection\"}]\n")})
	require.ErrorContains(t, err, "threshold: threshold belongs to threshold rules")
	require.ErrorContains(t, err, `exceptions_list[0]: exception list "l" cannot be resolved`)

	_, err = Load([]string{write("actions.toml", "actions = [{id = \"a\"}]\n")})
	require.ErrorContains(t, err, "actions: rule actions are not run by esrule")
	_, err = Load([]string{write("noactions.toml", "actions = []\n")})
	require.NoError(t, err)

	_, err = Load([]string{write("table.toml", "[rules]\nx = 1\n[rule]\n")})
	require.Error(t, err)

	_, err = Load([]string{write("dataview.toml", "data_view_id = \"security-solution-default\"\n")})
	require.NoError(t, err, "data_view_id with index is accepted")
}

func TestUnknownTableAndNewTermsKeys(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/good/minimal.toml")
	require.NoError(t, err)
	s := strings.Replace(string(src), "[metadata]", "[metdata]", 1)
	s = strings.Replace(s, "field = \"new_terms_fields\"\n", "field = \"new_terms_fields\"\nvalues = [\"x\"]\n", 1)
	p := filepath.Join(dir, "r.toml")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
	_, err = Load([]string{p})
	require.ErrorContains(t, err, "metdata: unknown key; did you mean metadata? (a detection-rules file has [metadata], [rule] and [transform])")
	require.ErrorContains(t, err, "new_terms.values: unknown key; did you mean value?")
}

func TestNDJSONRuleKeys(t *testing.T) {
	src, err := os.ReadFile("testdata/good/kibana_export.ndjson")
	require.NoError(t, err)
	line := strings.SplitN(string(src), "\n", 2)[0]
	require.Contains(t, line, `"timestamp_override":`)
	bad := strings.Replace(line, `"timestamp_override":`, `"timestamp_overide":`, 1)
	bad = strings.Replace(bad, `{`, `{"alert_suppression":{"group_by":["host.name"]},"threat_query":"x","flavour":1,`, 1)
	p := filepath.Join(t.TempDir(), "export.ndjson")
	require.NoError(t, os.WriteFile(p, []byte(bad+"\n"), 0o600))
	_, err = Load([]string{p})
	ps := problemsOf(t, err)
	got := make([]string, len(ps))
	for i, pr := range ps {
		got[i] = pr.Field + ": " + pr.Reason
		require.Equal(t, 1, pr.Line)
	}
	require.ElementsMatch(t, []string{
		"alert_suppression: alert suppression is not supported; remove it (Kibana needs a Platinum licence for it)",
		"flavour: unknown key",
		"threat_query: indicator match parameters are not supported; esrule runs new_terms rules only",
		"timestamp_overide: unknown key; did you mean timestamp_override?",
	}, got)
}

func TestTOMLFieldLine(t *testing.T) {
	src, err := os.ReadFile("../rules/windows/credential_access_lsass_memdump_handle_access.toml")
	require.NoError(t, err)
	lines := strings.Split(string(src), "\n")
	for field, want := range map[string]string{
		"index": "index = ", "query": "query = ", "timestamp_override": "timestamp_override = ",
		"filters": "[[rule.filters]]", "new_terms_fields": "value = [", "nothing": "",
	} {
		got := TOMLFieldLine(src, field)
		if want == "" {
			require.Zero(t, got, field)
			continue
		}
		require.Positive(t, got, field)
		require.True(t, strings.HasPrefix(lines[got-1], want), "%s: line %d is %q", field, got, lines[got-1])
	}
}
