package rule

import (
	"encoding/json"
	"testing"

	"github.com/esrule/esrule/kql"

	"github.com/stretchr/testify/require"
)

func TestBuiltin(t *testing.T) {
	r := Builtin()
	require.Empty(t, r.Validate())
	require.Equal(t, "First Occurrence of Okta User Session Started via Proxy", r.Name)
	require.Equal(t, "6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd", r.RuleID)
	require.Equal(t, r.RuleID, r.SavedObjectID())
	require.Equal(t, "new_terms", r.Type)
	require.Equal(t, "kuery", r.Language)
	require.Equal(t, []string{"filebeat-*", "logs-okta*"}, r.Index)
	require.Equal(t, "event.dataset:okta.system and okta.event_type: (user.session.start or user.authentication.verify) and okta.security_context.is_proxy:true and not okta.actor.id: okta*", r.Query)
	require.Equal(t, []string{"okta.actor.id"}, r.NewTermsFields)
	require.Equal(t, "now-7d", r.HistoryWindowStart)
	require.Equal(t, "event.ingested", r.TimestampOverride)
	require.Equal(t, "5m", r.Interval)
	require.Equal(t, "now-6m", r.From)
	require.Equal(t, "now", r.To)
	require.Equal(t, 100, r.MaxSignals)
	require.Equal(t, "medium", r.Severity)
	require.Equal(t, 47, r.RiskScore)
	require.Equal(t, 105, r.Version)
	require.Equal(t, []string{"Elastic"}, r.Author)
	require.Equal(t, "Elastic License v2", r.License)
	require.Equal(t, "default", r.Space)
	require.Len(t, r.Threat, 1)
	require.Equal(t, ThreatRef{ID: "TA0001", Name: "Initial Access", Reference: "https://attack.mitre.org/tactics/TA0001/"}, r.Threat[0].Tactic)
	require.Equal(t, "T1133", r.Threat[0].Technique[0].ID)
	require.Equal(t, "https://attack.mitre.org/techniques/T1133/", r.Threat[0].Technique[0].Reference)
	require.Contains(t, r.Tags, "Data Source: Okta")
	require.NotEmpty(t, r.References)
	require.NotEmpty(t, r.Note)

	// Every call returns an independent copy.
	r.Index[0] = "changed"
	require.Equal(t, "filebeat-*", Builtin().Index[0])
}

func TestBuiltinParametersJSON(t *testing.T) {
	b, err := json.Marshal(Builtin())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, []any{"okta.actor.id"}, m["new_terms_fields"])
	require.Equal(t, "now-7d", m["history_window_start"])
	require.Equal(t, []any{}, m["exceptions_list"])
	require.Equal(t, []any{}, m["severity_mapping"])
	require.NotContains(t, m, "Space")
}

func TestBuiltinQueryParses(t *testing.T) {
	_, err := kql.Parse(Builtin().Query)
	require.NoError(t, err)
}
