package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

// forbiddenUpdates is an Elasticsearch that finds one alert to deliver and
// answers 403 to every update, as for a role with create_doc but not index
// on the alerts indices.
type forbiddenUpdates struct {
	mu      sync.Mutex
	updates int
}

func (f *forbiddenUpdates) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	status, body := 200, `{}`
	switch {
	case strings.Contains(req.URL.Path, "/_mapping/field/"):
		body = `{"esrule-alerts-default-000001":{"mappings":{"esrule.notify":{"full_name":"esrule.notify","mapping":{"notify":{"type":"flattened"}}}}}}`
	case strings.HasSuffix(req.URL.Path, "/_search"):
		body = `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"total":{"value":1},"hits":[
			{"_index":"esrule-alerts-default-000001","_id":"a1","_seq_no":3,"_primary_term":1,"_source":{},
			 "fields":{"kibana.alert.rule.name":["r"],"kibana.alert.rule.rule_id":["r1"],"@timestamp":["2024-05-13T02:59:00Z"]}}]}}`
	case strings.Contains(req.URL.Path, "/_update/"):
		f.updates++
		status = 403
		body = `{"error":{"type":"security_exception","reason":"action [indices:data/write/update] is unauthorized for user [esrule-runner] with effective roles [esrule-runner] on indices [esrule-alerts-default-000001], this action is granted by the index privileges [index,write,all]"},"status":403}`
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: status, Header: h, Request: req, Body: io.NopCloser(strings.NewReader(body))}, nil
}

// TestRunOnceFailsWhenStateCannotBeRecorded: no message is sent without a
// claim, and the round fails with ErrStateNotRecorded (exit 1 in esrule
// run) and counts esrule_notify_state_errors_total.
func TestRunOnceFailsWhenStateCannotBeRecorded(t *testing.T) {
	sent := 0
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { sent++ }))
	defer hook.Close()
	fake := &forbiddenUpdates{}
	c, err := esclient.New(esclient.Config{Addresses: []string{"http://es.test:9200"}, Transport: fake, MaxRetries: -1})
	require.NoError(t, err)
	m := NewMetrics()
	action := "state-errors-test"
	d, err := New(c, Config{
		Actions: []Action{{Name: action, Type: TypeWebhook, URL: hook.URL}},
		Aliases: []string{"esrule-alerts-default"}, Owner: "test", Clock: func() time.Time { return sendNow }, Metrics: m,
	})
	require.NoError(t, err)
	before := testutil.ToFloat64(m.stateErrors.WithLabelValues(action))
	err = d.RunOnce(context.Background())
	require.ErrorIs(t, err, ErrStateNotRecorded)
	require.ErrorContains(t, err, "granted by the index privileges [index,write,all]")
	require.Equal(t, 0, sent, "nothing is sent without a claim")
	require.Equal(t, 1, fake.updates)
	require.Equal(t, before+1, testutil.ToFloat64(m.stateErrors.WithLabelValues(action)))
}
