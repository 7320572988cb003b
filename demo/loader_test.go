package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"
)

// fakeES answers the requests Load makes. Bulk items are answered by the
// document id's prefix: "dup" 409, "bad" 400, "busy" 429 on the first try.
type fakeES struct {
	mu       sync.Mutex
	busySeen map[string]bool
	settings []string // bodies of PUT _settings, in order
}

func (f *fakeES) RoundTrip(req *http.Request) (*http.Response, error) {
	body := ""
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		body = string(b)
	}
	respond := func(status int, s string) (*http.Response, error) {
		h := http.Header{}
		h.Set("X-Elastic-Product", "Elasticsearch")
		h.Set("Content-Type", "application/json")
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(s)), Request: req}, nil
	}
	switch {
	case req.Method == http.MethodHead:
		return respond(200, "")
	case req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/_settings"):
		return respond(200, `{"idx":{"settings":{"index.number_of_replicas":"1","index.refresh_interval":"5s"}}}`)
	case req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/_settings"):
		f.mu.Lock()
		f.settings = append(f.settings, body)
		f.mu.Unlock()
		return respond(200, `{"acknowledged":true}`)
	case strings.HasSuffix(req.URL.Path, "/_refresh"):
		return respond(200, `{"_shards":{"total":1,"successful":1,"failed":0}}`)
	case strings.HasSuffix(req.URL.Path, "/_bulk"):
		return respond(200, f.bulk(body))
	}
	return respond(404, `{"error":{"type":"not_found","reason":"`+req.URL.Path+`"},"status":404}`)
}

func (f *fakeES) bulk(body string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var action map[string]struct {
			ID string `json:"_id"`
		}
		if json.Unmarshal(sc.Bytes(), &action) != nil || action["create"].ID == "" {
			continue
		}
		id := action["create"].ID
		sc.Scan() // the document
		switch {
		case strings.HasPrefix(id, "dup"):
			items = append(items, `{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}`)
		case strings.HasPrefix(id, "bad"):
			items = append(items, `{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [source.ip] of type [ip]"}}}`)
		case strings.HasPrefix(id, "jam"):
			items = append(items, `{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected"}}}`)
		case strings.HasPrefix(id, "busy") && !f.busySeen[id]:
			f.busySeen[id] = true
			items = append(items, `{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected"}}}`)
		default:
			items = append(items, `{"create":{"status":201}}`)
		}
	}
	return fmt.Sprintf(`{"errors":true,"items":[%s]}`, strings.Join(items, ","))
}

func loadDocs(t *testing.T, ids ...string) (LoadStats, *fakeES, error) {
	t.Helper()
	f := &fakeES{busySeen: map[string]bool{}}
	c, err := elasticsearch.NewClient(elasticsearch.Config{Transport: f})
	require.NoError(t, err)
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
	require.Len(t, f.settings, 2)
	require.JSONEq(t, `{"index":{"number_of_replicas":0,"refresh_interval":"-1"}}`, f.settings[0])
	require.JSONEq(t, `{"index":{"number_of_replicas":"1","refresh_interval":"5s"}}`, f.settings[1])
}

func TestLoadFailsOnRejectedDocuments(t *testing.T) {
	stats, f, err := loadDocs(t, "a1", "bad1", "a2")
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.EqualValues(t, 1, le.Failed)
	require.Contains(t, le.Error(), "document_parsing_exception")
	require.EqualValues(t, 2, stats.Created)
	require.Len(t, f.settings, 2, "settings are restored after a failed load")
}

func TestLoadGivesUpOnPersistent429(t *testing.T) {
	stats, _, err := loadDocs(t, "a1", "jam1")
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.EqualValues(t, 1, le.Failed, "counted once, not once per attempt")
	require.EqualValues(t, maxLoadRetries, stats.Retried)
	require.Contains(t, le.Error(), "still rejected with 429")
}

func TestLoadReadsBodiesOnce(t *testing.T) {
	// The bulk indexer reads each body when the item is added; the retry path
	// reads it again from the start.
	b := bytes.NewReader([]byte(`{"x":1}`))
	_, _ = io.ReadAll(b)
	got, err := readBody(b)
	require.NoError(t, err)
	require.Equal(t, `{"x":1}`, string(got))
}
