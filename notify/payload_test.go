package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleSummary() Summary {
	return Summary{
		AlertID:   "6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6",
		Index:     "esrule-alerts-default-000001",
		RuleName:  "First Occurrence of Okta User Session Started via Proxy",
		RuleID:    "6f1bb4b2-7dc8-11ee-b837-f661ea17fbcd",
		RuleUUID:  "1a2b3c4d-0000-4000-8000-000000000001",
		Severity:  "medium",
		RiskScore: 47,
		NewTerms:  []string{"00u1abcd2345<x>"},
		Actor:     Actor{ID: "00u1abcd2345", AlternateID: "dana.hale@example.com", DisplayName: "Dana Hale", Type: "User"},
		SourceIP:  "203.0.113.77",
		Time:      time.Date(2024, 5, 13, 2, 14, 9, 118e6, time.UTC),
		CreatedAt: time.Date(2024, 5, 13, 2, 20, 0, 0, time.UTC),
		Reason:    "authentication event with source 203.0.113.77 by dana.hale@example.com created medium alert First Occurrence of Okta User Session Started via Proxy.",
	}
}

func TestSlackPayloadGolden(t *testing.T) {
	s := sampleSummary()
	link, err := parseLinkTemplate("https://kibana.example.com/app/security/alerts/redirect/{{.AlertID}}?index={{.Index}}&timestamp={{rfc3339 .CreatedAt}}")
	require.NoError(t, err)
	s, err = s.withLink(link)
	require.NoError(t, err)
	got, err := SlackPayload(s)
	require.NoError(t, err)
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, got, "", "  "))
	pretty.WriteByte('\n')

	path := filepath.Join("testdata", "slack.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./notify -run TestSlackPayloadGolden -update")
	require.Equal(t, string(want), pretty.String())
}

func TestWebhookPayloadCarriesTheSummary(t *testing.T) {
	s := sampleSummary()
	s.Link = "https://kibana.example.com/x"
	b, err := WebhookPayload("soc", s)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	for _, key := range []string{"action", "alert_id", "index", "rule_name", "rule_id", "rule_uuid", "severity",
		"risk_score", "new_terms", "actor", "source_ip", "time", "created_at", "reason", "link"} {
		require.Contains(t, got, key)
	}
	require.Equal(t, "soc", got["action"])
	require.Equal(t, "2024-05-13T02:14:09.118Z", got["time"])
	require.Equal(t, []any{"00u1abcd2345<x>"}, got["new_terms"])
}

func TestLinkTemplate(t *testing.T) {
	tests := []struct {
		name, tmpl, want, wantErr string
	}{
		{name: "fields", tmpl: "{{.RuleID}}/{{.AlertID}}", want: "6f1bb4b2-7dc8-11ee-b837-f661ea17fbcd/6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6"},
		{name: "query escape", tmpl: "q={{urlquery .Actor.AlternateID}}", want: "q=dana.hale%40example.com"},
		{name: "time", tmpl: "{{rfc3339 .Time}}", want: "2024-05-13T02:14:09.118Z"},
		{name: "unknown field", tmpl: "{{.Nope}}", wantErr: "Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := parseLinkTemplate(tt.tmpl)
			require.NoError(t, err)
			s, err := sampleSummary().withLink(tm)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, s.Link)
		})
	}
}

func TestSummaryFromFields(t *testing.T) {
	f := map[string][]any{
		"@timestamp":                 {"2024-05-13T02:20:00.000Z"},
		"kibana.alert.rule.name":     {"R"},
		"kibana.alert.rule.rule_id":  {"rid"},
		"kibana.alert.severity":      {"high"},
		"kibana.alert.risk_score":    {json.Number("73.5")},
		"kibana.alert.new_terms":     {"a", "b"},
		"kibana.alert.original_time": {"2024-05-13T02:14:09.118Z"},
		"user.name":                  {"bob"},
		"okta.client.ip":             {"198.51.100.1"},
	}
	s := summaryFromFields("idx", "id1", f)
	require.Equal(t, Summary{
		AlertID: "id1", Index: "idx", RuleName: "R", RuleID: "rid", Severity: "high", RiskScore: 73.5,
		NewTerms: []string{"a", "b"}, Actor: Actor{AlternateID: "bob"}, SourceIP: "198.51.100.1",
		Time: time.Date(2024, 5, 13, 2, 14, 9, 118e6, time.UTC), CreatedAt: time.Date(2024, 5, 13, 2, 20, 0, 0, time.UTC),
	}, s)
}

// TestKibanaURLOpensTheAlertWhereItWasWritten: Kibana's Security alerts open
// in the Alerts page (the link Kibana writes in kibana.alert.url), esrule's
// own alerts in Discover's "esrule alerts" saved search, each in its space.
func TestKibanaURLOpensTheAlertWhereItWasWritten(t *testing.T) {
	tm, err := parseLinkTemplate(`{{.KibanaURL "https://kibana.example.com/"}}`)
	require.NoError(t, err)
	for _, tt := range []struct{ index, space, want string }{
		{".internal.alerts-security.alerts-default-000001", "default",
			"https://kibana.example.com/app/security/alerts/redirect/6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6?index=.alerts-security.alerts-default&timestamp=2024-05-13T02%3A20%3A00Z"},
		{".internal.alerts-security.alerts-soc-000003", "soc",
			"https://kibana.example.com/s/soc/app/security/alerts/redirect/6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6?index=.alerts-security.alerts-soc&timestamp=2024-05-13T02%3A20%3A00Z"},
		{"esrule-alerts-default-000001", "",
			"https://kibana.example.com/app/discover#/view/esrule-alerts-search?_g=(time:(from:'2024-05-13T01:50:00Z',to:'2024-05-13T02:50:00Z'))&_a=(query:(language:kuery,query:'kibana.alert.uuid:6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6'))"},
		{"esrule-alerts-soc-000001", "soc",
			"https://kibana.example.com/s/soc/app/discover#/view/esrule-alerts-search?_g=(time:(from:'2024-05-13T01:50:00Z',to:'2024-05-13T02:50:00Z'))&_a=(query:(language:kuery,query:'kibana.alert.uuid:6e2fa881475c411f82bcc0274d5a6bb3fb6be2d6'))"},
	} {
		s := sampleSummary()
		s.Index, s.Space = tt.index, tt.space
		s, err := s.withLink(tm)
		require.NoError(t, err)
		require.Equal(t, tt.want, s.Link)
	}
	require.Equal(t, "'it!'s%20!!%20a%20test'", risonString("it's ! a test"))
}
