package rulecheck

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

// fakeClient answers from canned _field_caps bodies per index list.
type fakeClient struct {
	caps    map[string]string // joined indices → body
	lacking map[string][]string
	noSec   bool
	asked   [][]string
}

func (f *fakeClient) FieldCaps(_ context.Context, indices, fields []string) ([]byte, error) {
	f.asked = append(f.asked, fields)
	return []byte(f.caps[strings.Join(indices, ",")]), nil
}

func (f *fakeClient) HasPrivileges(_ context.Context, patterns, _ []string) (map[string][]string, error) {
	if f.noSec {
		return nil, ErrNoSecurity
	}
	return f.lacking, nil
}

func testRule() *rule.Rule {
	return &rule.Rule{
		RuleID: "r1", Origin: "rules/r.toml", Language: "kuery", Index: []string{"logs-a*", "logs-b*"},
		Query: `event.dataset:okta.system and not okta.actor.id:okta*`, NewTermsFields: []string{"okta.actor.id", "message"},
		TimestampOverride: "event.ingested",
		Filters:           []json.RawMessage{json.RawMessage(`{"meta":{"negate":true},"query":{"wildcard":{"file.path":{"value":"x*"}}}}`)},
	}
}

func TestUses(t *testing.T) {
	uses, err := Uses(testRule())
	require.NoError(t, err)
	require.Equal(t, []Use{
		{"okta.actor.id", []string{RoleNewTerms, RoleQuery}}, {"message", []string{RoleNewTerms}},
		{"event.ingested", []string{RoleTimestamp}}, {"event.dataset", []string{RoleQuery}}, {"file.path", []string{RoleFilters}},
	}, uses)
	r := testRule()
	r.Language, r.Query = "lucene", `event.dataset:okta AND user.name:"a:b"`
	uses, err = Uses(r)
	require.NoError(t, err)
	require.Equal(t, "user.name", uses[4].Field)
}

func TestCheck(t *testing.T) {
	matched := `{"indices":["logs-a-1"],"fields":{"_index":{"_index":{"type":"_index","searchable":true,"aggregatable":true}}}}`
	c := &fakeClient{caps: map[string]string{
		"logs-a*": matched,
		"logs-b*": `{"indices":[],"fields":{}}`,
		"logs-a*,logs-b*": `{"indices":["logs-a-1","logs-a-2"],"fields":{
			"okta.actor.id":{"keyword":{"type":"keyword","searchable":true,"aggregatable":true,"indices":["logs-a-1"]},"long":{"type":"long","searchable":true,"aggregatable":true,"indices":["logs-a-2"]}},
			"message":{"text":{"type":"text","searchable":true,"aggregatable":false}},
			"event.ingested":{"keyword":{"type":"keyword","searchable":true,"aggregatable":true}},
			"event.dataset":{"keyword":{"type":"keyword","searchable":true,"aggregatable":true,"indices":["logs-a-1"]},"unmapped":{"type":"unmapped","searchable":false,"aggregatable":false,"indices":["logs-a-2"]}},
			"file.path":{"unmapped":{"type":"unmapped","searchable":false,"aggregatable":false}}}}`,
	}, lacking: map[string][]string{"logs-b*": {"read"}}}
	ps, err := Check(context.Background(), c, testRule())
	require.NoError(t, err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.String()
	}
	require.Equal(t, []string{
		`rules/r.toml: index: index pattern "logs-b*" matches no index this user can read: it lacks the read privilege on it`,
		`rules/r.toml: new_terms_fields: field "okta.actor.id" has conflicting types: keyword in logs-a-1, long in logs-a-2`,
		`rules/r.toml: new_terms_fields: field "message" cannot be aggregated (type text); new-terms fields need keyword, numeric, ip, boolean or date fields`,
		`rules/r.toml: timestamp_override: field "event.ingested" has type keyword; a timestamp override must be a date or date_nanos field`,
		`rules/r.toml: filters: field "file.path" is not mapped in any index matching logs-a*, logs-b*`,
	}, got)

	c.noSec = true
	ps, err = Check(context.Background(), c, testRule())
	require.NoError(t, err)
	require.Equal(t, `rules/r.toml: index: index pattern "logs-b*" matches no index`, ps[0].String())

	// Every pattern empty: no field check.
	c.caps["logs-a*"] = `{"indices":[],"fields":{}}`
	c.asked = nil
	ps, err = Check(context.Background(), c, testRule())
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Len(t, c.asked, 2, "only the per-pattern requests")
}

func TestWildcardFieldNames(t *testing.T) {
	c := caps{Fields: map[string]map[string]typeCaps{
		"process.name": {"keyword": {Type: "keyword"}}, "process.pid": {"long": {Type: "long"}},
		"process.gone": {"unmapped": {Type: "unmapped"}},
	}}
	require.Equal(t, []string{"process.name", "process.pid"}, c.matching("process.*"))
	require.Empty(t, c.matching("user.*"))
	require.Equal(t, []string{"process.name"}, c.matching("process.name"))
}
