package demo

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/internal/estest"
)

// loaderES is a fake Elasticsearch for Load: index settings (read, and
// recorded when written), refresh, and bulk items answered by the document
// id's prefix: "dup" 409, "bad" 400, "jam" 429 always, "busy" 429 on the
// first try.
func loaderES() *estest.Transport {
	tr := estest.NewTransport()
	tr.On(http.MethodHead, "/**", estest.Reply{})
	tr.On(http.MethodGet, "/*/_settings", estest.JSON(200, `{"idx":{"settings":{"index.number_of_replicas":"1","index.refresh_interval":"5s"}}}`))
	tr.On(http.MethodPut, "/*/_settings", estest.JSON(200, `{"acknowledged":true}`))
	tr.On("", "/*/_refresh", estest.JSON(200, `{"_shards":{"total":1,"successful":1,"failed":0}}`))
	var mu sync.Mutex
	busySeen := map[string]bool{}
	tr.On("", "/_bulk", estest.Bulk(func(_ int, a estest.BulkAction) int {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(a.ID, "dup"):
			return 409
		case strings.HasPrefix(a.ID, "bad"):
			return 400
		case strings.HasPrefix(a.ID, "jam"):
			return 429
		case strings.HasPrefix(a.ID, "busy") && !busySeen[a.ID]:
			busySeen[a.ID] = true
			return 429
		}
		return 201
	}))
	return tr
}

// settingsWritten returns the bodies of the settings updates, in order.
func settingsWritten(tr *estest.Transport) []string {
	var out []string
	for _, r := range tr.RequestsTo(http.MethodPut, "/*/_settings") {
		out = append(out, string(r.Body))
	}
	return out
}

func loadDocs(t *testing.T, ids ...string) (LoadStats, *estest.Transport, error) {
	t.Helper()
	f := loaderES()
	c := f.Client(t)
	each := func(yield func(Doc) error) error {
		for _, id := range ids {
			if err := yield(Doc{Index: "logs-okta.system-test", ID: id, Body: []byte(`{"a":1}`)}); err != nil {
				return err
			}
		}
		return nil
	}
	var reports []LoadProgress
	stats, err := Load(context.Background(), c, []string{"logs-okta.system-test"}, each, LoadConfig{
		Clock: time.Now, Report: func(p LoadProgress) { reports = append(reports, p) },
	})
	require.NotEmpty(t, reports)
	require.True(t, reports[len(reports)-1].Final)
	return stats, f, err
}

func TestLoadCountsCreatedAndDuplicates(t *testing.T) {
	stats, f, err := loadDocs(t, "a1", "a2", "dup1", "busy1", "a3")
	require.NoError(t, err)
	require.EqualValues(t, 4, stats.Created, "a1 a2 a3 and busy1 after its retry")
	require.EqualValues(t, 1, stats.Duplicates)
	require.EqualValues(t, 1, stats.Retried)
	require.Len(t, settingsWritten(f), 2)
	require.JSONEq(t, `{"index":{"number_of_replicas":0,"refresh_interval":"-1"}}`, settingsWritten(f)[0])
	require.JSONEq(t, `{"index":{"number_of_replicas":"1","refresh_interval":"5s"}}`, settingsWritten(f)[1])
}

func TestLoadFailsOnRejectedDocuments(t *testing.T) {
	stats, f, err := loadDocs(t, "a1", "bad1", "a2")
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.EqualValues(t, 1, le.Failed)
	require.Contains(t, le.Error(), "document_parsing_exception")
	require.EqualValues(t, 2, stats.Created)
	require.Len(t, settingsWritten(f), 2, "settings are restored after a failed load")
}

func TestLoadGivesUpOnPersistent429(t *testing.T) {
	stats, _, err := loadDocs(t, "a1", "jam1")
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.EqualValues(t, 1, le.Failed, "counted once, not once per attempt")
	require.EqualValues(t, maxLoadRetries, stats.Retried)
	require.Contains(t, le.Error(), "still rejected with 429")
}
