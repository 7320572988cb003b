package alerts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
)

type badCase struct {
	name     string
	reply    estest.Reply
	want     string
	attempts int
}

func badCases() []badCase {
	return []badCase{
		{"not JSON", estest.JSON(200, "hello, world"), "hello, world", 3},
		{"truncated JSON", estest.JSON(200, `{"took":3,"errors":false,"items":[{"create":{"_id":"a","sta`), "unexpected end of JSON input", 3},
		{"nginx 502 page", estest.JSON(502, estest.NginxBadGateway), "502 Bad Gateway", 3},
		{"HTML 200 page without the product header", estest.Reply{Body: []byte("<html>login</html>"), Impostor: true}, "not Elasticsearch", 1},
		{"huge non-JSON body", estest.JSON(200, strings.Repeat("<div>", 1<<20)), "<div><div>", 3},
		{"connection cut mid-body", estest.Reply{Body: []byte(`{"took":1,"items":[{"create":{}}]}`), CutAfter: 19}, "unexpected EOF", 3},
		{"HTML 401 from a proxy", estest.JSON(401, "<html>Unauthorized</html>"), "401", 1},
	}
}

// newWriter returns a writer over a fake answering every request with
// reply, and the fake's route (which counts the requests).
func newWriter(t *testing.T, reply estest.Reply) (*alerts.Writer, *estest.Route) {
	t.Helper()
	tr := estest.NewTransport()
	route := tr.On("", "/**", reply)
	if !reply.Impostor {
		// The refresh before a writer's first pre-check succeeds: the bad
		// answer is the pre-check's. An impostor answers the refresh.
		tr.On("POST", "/*/_refresh", estest.JSON(200, `{"_shards":{"total":1,"successful":1,"failed":0}}`))
	}
	c := tr.ClientWith(t, esclient.Config{MaxRetries: 2})
	return alerts.NewWriter(c, alerts.WriterConfig{
		Alias: "esrule-alerts-default", MaxRetries: 2, Backoff: func(int) time.Duration { return 0 }, Logger: zerolog.Nop(),
	}), route
}

// TestCreateBadResponses: an unreadable answer to a bulk request never
// counts an alert as written, names every alert in the error and does not panic.
func TestCreateBadResponses(t *testing.T) {
	batch := []alerts.Alert{
		{ID: "a", Doc: map[string]any{"kibana.alert.uuid": "a"}},
		{ID: "b", Doc: map[string]any{"kibana.alert.uuid": "b"}},
	}
	for _, tt := range badCases() {
		t.Run(tt.name, func(t *testing.T) {
			w, route := newWriter(t, tt.reply)
			var (
				res alerts.WriteResult
				err error
			)
			require.NotPanics(t, func() { res, err = w.Create(context.Background(), batch) })
			require.Error(t, err)
			require.Equal(t, alerts.WriteResult{}, res, "nothing counted as written")
			var be *alerts.BulkError
			require.True(t, errors.As(err, &be), "%T %v", err, err)
			require.Len(t, be.Failed, 2)
			require.Contains(t, err.Error(), tt.want)
			require.Less(t, len(err.Error()), 1200, "the error stays readable")
			require.Equal(t, tt.attempts, route.Calls(), "attempts")
		})
	}
}

// TestExistingBadResponses: the ids pre-check fails closed on unreadable
// answers (an error, no partial map) and does not panic.
func TestExistingBadResponses(t *testing.T) {
	for _, tt := range badCases() {
		t.Run(tt.name, func(t *testing.T) {
			w, route := newWriter(t, tt.reply)
			var (
				got map[string]string
				err error
			)
			require.NotPanics(t, func() { got, err = w.Existing(context.Background(), []string{"a", "b"}) })
			require.Error(t, err)
			require.Nil(t, got)
			require.Contains(t, err.Error(), "check existing alerts in esrule-alerts-default")
			require.Less(t, len(err.Error()), 1200, "the error stays readable")
			require.Equal(t, tt.attempts, route.Calls(), "attempts")
		})
	}
}
