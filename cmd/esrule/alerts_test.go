package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
)

// alertsES is a fake answering every request with status and body.
func alertsES(t *testing.T, status int, body string) (*esclient.Client, *estest.Transport) {
	t.Helper()
	tr := estest.NewTransport()
	tr.On("", "/**", estest.JSON(status, body))
	return tr.Client(t), tr
}

// requestBody decodes the body of the i-th request.
func requestBody(t *testing.T, tr *estest.Transport, i int) map[string]any {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(tr.Requests()[i].Body, &body))
	return body
}

// searchResponse wraps hits (newest first, as the query sorts) in a search response.
func searchResponse(total int, hits ...string) string {
	return fmt.Sprintf(`{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},`+
		`"hits":{"total":{"value":%d,"relation":"eq"},"hits":[%s]}}`, total, strings.Join(hits, ","))
}

// An Okta alert as esrule writes it: kibana.* keys dotted, source fields nested.
const oktaAlertHit = `{"_index":"esrule-alerts-default-000001","_id":"5c1f0e7b2a9d4c3e8f6a1b2c3d4e5f6a7b8c9d0e","_source":{
	"@timestamp":"2026-11-26T18:20:00.000Z",
	"kibana.alert.original_time":"2026-11-25T22:28:53.101Z",
	"kibana.alert.rule.name":"First Occurrence of Okta User Session Started via Proxy",
	"kibana.alert.rule.rule_id":"6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd",
	"kibana.alert.rule.uuid":"6f1bb4b2-7dc8-11ee-92b2-f661ea17fbcd",
	"kibana.alert.rule.execution.type":"scheduled",
	"kibana.alert.severity":"medium",
	"kibana.alert.risk_score":47,
	"kibana.alert.workflow_status":"open",
	"kibana.alert.reason":"user.session.start event with source 192.0.2.27 by s.james.smith@acme.example created medium alert First Occurrence of Okta User Session Started via Proxy.",
	"kibana.alert.ancestors":[{"id":"9824e9d0-e91f-11f1-a7e4-dc82ec92a673","index":"logs-okta.system-default","type":"event","depth":0}],
	"kibana.alert.new_terms":["00uO9G1unTYs1MDcnNrm"],
	"okta":{"actor":{"id":"00uO9G1unTYs1MDcnNrm","alternate_id":"s.james.smith@acme.example"},
	        "security_context":{"as":{"number":65536,"organization":{"name":"example anonymizer hosting"}},"is_proxy":true}},
	"source":{"ip":"192.0.2.27","geo":{"country_name":"Netherlands"},"as":{"number":65536,"organization":{"name":"Example Anonymizer Hosting B.V."}}}}}`

// A non-Okta alert: only user.name and host data; most columns stay empty.
const hostAlertHit = `{"_index":"esrule-alerts-default-000001","_id":"0123456789abcdef0123456789abcdef01234567","_source":{
	"@timestamp":"2026-11-26T18:20:00.000Z",
	"kibana.alert.original_time":"2026-11-24T08:00:00.000Z",
	"kibana.alert.rule.name":"First Time Seen Remote Login",
	"kibana.alert.new_terms":["web-1","alice"],
	"user":{"name":"alice"},
	"host.name":"web-1"}}`

func TestListAlertsTable(t *testing.T) {
	c, f := alertsES(t, 200, searchResponse(2, oktaAlertHit, hostAlertHit))
	var out bytes.Buffer
	q := alerts.ListQuery{Alias: "esrule-alerts-default", Limit: 100}
	require.NoError(t, printAlerts(context.Background(), c, q, "table", &out))

	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Len(t, lines, 4, out.String())
	require.Regexp(t, `^TIME\s+RULE\s+ACTOR\s+SOURCE IP\s+AS\s+COUNTRY\s+ALERT ID\s+REASON$`, lines[0])
	// Oldest first: the host alert (original time 2026-11-24) comes before the Okta one.
	require.Regexp(t, `^2026-11-24 08:00:00Z\s+First Time Seen Remote Login\s+alice\s+-\s+-\s+-\s+0123456789ab\s+-$`, lines[1])
	require.Regexp(t, `^2026-11-25 22:28:53Z\s+First Occurrence of Okta Us…\s+s\.james\.smith@acme\.example\s+192\.0\.2\.27\s+`+
		`AS65536 example anonymizer hosting\s+Netherlands\s+5c1f0e7b2a9d\s+user\.session\.start event with source 192\.0\.2\.27 by s\.james\.…$`, lines[2])
	require.Equal(t, "2 alerts in esrule-alerts-default", lines[3])

	require.Len(t, f.Requests(), 1)
	require.Equal(t, "/esrule-alerts-default/_search?allow_no_indices=true&ignore_unavailable=true", f.Requests()[0].Path+"?"+f.Requests()[0].Query.Encode())
	body := requestBody(t, f, 0)
	require.Equal(t, map[string]any{"match_all": map[string]any{}}, body["query"])
	require.EqualValues(t, 100, body["size"])
	sort := body["sort"].([]any)
	require.Equal(t, map[string]any{"order": "desc", "unmapped_type": "date"},
		sort[0].(map[string]any)["kibana.alert.original_time"])
}

// TestListAlertsJSON checks alerts --format json against its golden file
// (docs/output.md documents the shape).
func TestListAlertsJSON(t *testing.T) {
	c, _ := alertsES(t, 200, searchResponse(2, hostAlertHit, oktaAlertHit))
	var out bytes.Buffer
	q := alerts.ListQuery{Alias: "esrule-alerts-default", Limit: 10}
	require.NoError(t, printAlerts(context.Background(), c, q, "json", &out))
	checkGolden(t, "alerts.ndjson", out.Bytes())
}

func TestListAlertsFiltersAndLimit(t *testing.T) {
	c, f := alertsES(t, 200, searchResponse(250, oktaAlertHit))
	var out bytes.Buffer
	q := alerts.ListQuery{Alias: "esrule-alerts-default", Limit: 1, RuleIDs: []string{"r1"},
		Since: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}
	require.NoError(t, printAlerts(context.Background(), c, q, "table", &out))
	require.Contains(t, out.String(), "the latest 1 of 250 alerts (--limit) in esrule-alerts-default since 2026-11-25T18:00:00Z")

	filter := requestBody(t, f, 0)["query"].(map[string]any)["bool"].(map[string]any)["filter"].([]any)
	require.Equal(t, map[string]any{"range": map[string]any{"kibana.alert.original_time": map[string]any{"gte": "2026-11-25T18:00:00Z"}}}, filter[0])
	require.Contains(t, mustJSON(t, filter[1]), `{"terms":{"kibana.alert.rule.rule_id":["r1"]}}`)
}

func TestListAlertsEmptyAndErrors(t *testing.T) {
	q := alerts.ListQuery{Alias: "esrule-alerts-default", Limit: 10}
	tests := []struct {
		name, body, want, wantErr string
		status                    int
	}{
		{name: "no alerts", status: 200, body: searchResponse(0), want: "no alerts in esrule-alerts-default\n"},
		{name: "bad request", status: 400, body: `{"error":{"type":"parsing_exception"},"status":400}`,
			wantErr: "read alerts from esrule-alerts-default: elasticsearch status 400: parsing_exception"},
		{name: "shard failure", status: 200,
			body:    `{"_shards":{"total":1,"successful":0,"failed":1,"failures":[{"index":"esrule-alerts-default-000001","reason":{"reason":"boom"}}]},"hits":{"hits":[]}}`,
			wantErr: "1 shards failed: esrule-alerts-default-000001: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, _ := alertsES(t, tt.status, tt.body)
			err := printAlerts(context.Background(), c, q, "table", &out)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, out.String())
		})
	}
}

func TestAlertsOptionsQuery(t *testing.T) {
	now := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	q, err := alertsOptions{space: "soc", since: "now-24h", limit: 5, format: "table"}.query(nil, now)
	require.NoError(t, err)
	require.Equal(t, alerts.ListQuery{Alias: "esrule-alerts-soc", Since: now.Add(-24 * time.Hour), Limit: 5}, q)

	for _, o := range []alertsOptions{
		{space: "default", limit: 5, format: "yaml"},
		{space: "default", limit: 0, format: "table"},
		{space: "default", limit: 5, format: "table", since: "yesterday"},
	} {
		_, err := o.query(nil, now)
		require.Error(t, err)
		require.Equal(t, exitUsage, exitCode(err, io.Discard), err.Error())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
