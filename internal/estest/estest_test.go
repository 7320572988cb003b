package estest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"
)

func TestTransportRoutesRecordsAndFails(t *testing.T) {
	tr := NewTransport()
	tr.On("", "/**", Error(404, "index_not_found_exception", "no such index"))
	health := tr.On(http.MethodGet, "/_cluster/health", Status(503), JSON(200, `{"status":"green"}`))
	c := tr.Client(t)
	ctx := context.Background()

	res, err := c.Cluster.Health(c.Cluster.Health.WithContext(ctx))
	require.NoError(t, err)
	require.Equal(t, 503, res.StatusCode)
	res.Body.Close()
	for range 2 {
		res, err = c.Cluster.Health(c.Cluster.Health.WithContext(ctx))
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode, "the last reply repeats")
		require.Equal(t, "Elasticsearch", res.Header.Get(ProductHeader))
		res.Body.Close()
	}
	require.Equal(t, 3, health.Calls())

	res, err = esapi.IndexRequest{Index: "i", DocumentID: "d", Body: strings.NewReader(`{"a":1}`), OpType: "create"}.Do(ctx, tr)
	require.NoError(t, err, "Transport is an esapi.Transport")
	require.Equal(t, 404, res.StatusCode)
	res.Body.Close()
	put := tr.RequestsTo(http.MethodPut, "/i/_doc/*")
	require.Len(t, put, 1)
	require.Equal(t, `{"a":1}`, string(put[0].Body))
	require.Equal(t, "create", put[0].Query.Get("op_type"))
	require.Len(t, tr.Requests(), 4)

	boom := errors.New("connection reset")
	tr.On(http.MethodGet, "/reset", Fail(boom))
	_, err = tr.RoundTrip(mustRequest(t, http.MethodGet, "/reset"))
	require.ErrorIs(t, err, boom)

	tr.On(http.MethodGet, "/cut", Reply{Body: []byte(`{"took":1,"aggregations":{}}`), CutAfter: 5})
	resp, err := tr.RoundTrip(mustRequest(t, http.MethodGet, "/cut"))
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Equal(t, `{"too`, string(b))

	tr.On(http.MethodGet, "/fake", Reply{Body: []byte(`{}`), Impostor: true})
	resp, err = tr.RoundTrip(mustRequest(t, http.MethodGet, "/fake"))
	require.NoError(t, err)
	require.Empty(t, resp.Header.Get(ProductHeader))

	none := NewTransport()
	_, err = none.RoundTrip(mustRequest(t, http.MethodGet, "/x"))
	require.ErrorContains(t, err, "no route for GET /x")
}

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://es.test:9200"+path, nil)
	require.NoError(t, err)
	return req
}

func TestDocumentsConcurrency(t *testing.T) {
	tr := NewTransport()
	tr.ServeDocuments()
	ctx := context.Background()
	put := func(req esapi.IndexRequest) int {
		req.Index, req.DocumentID, req.Body = "s", "1", strings.NewReader(`{"n":1}`)
		res, err := req.Do(ctx, tr)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, 201, put(esapi.IndexRequest{OpType: "create"}))
	require.Equal(t, 409, put(esapi.IndexRequest{OpType: "create"}))
	seq, term := 0, 1
	require.Equal(t, 200, put(esapi.IndexRequest{IfSeqNo: &seq, IfPrimaryTerm: &term}))
	require.Equal(t, 409, put(esapi.IndexRequest{IfSeqNo: &seq, IfPrimaryTerm: &term}), "stale sequence number")
}

// searchOf runs body over the fake and returns the decoded aggregations.
func searchOf(t *testing.T, f *SearchFake, body string, paths ...string) map[string]any {
	t.Helper()
	resp, err := f.Search(context.Background(), []string{"logs-*"}, []byte(body), paths)
	require.NoError(t, err)
	var aggs map[string]any
	if resp.Aggregations != nil {
		require.NoError(t, json.Unmarshal(resp.Aggregations, &aggs))
	}
	return aggs
}

func testFake(t *testing.T) *SearchFake {
	t.Helper()
	f := NewSearchFake(map[string]string{"@timestamp": "date", "user": "keyword", "ip": "ip", "n": "long", "ok": "boolean"})
	docs := []Doc{
		{"logs-a", "1", map[string]any{"@timestamp": "2026-03-02T10:00:00.000Z", "user": []any{"b", "a", "a"}, "ip": "10.0.0.10", "n": 10}},
		{"logs-a", "2", map[string]any{"@timestamp": []any{"2026-03-02T10:04:59.999Z", "2026-03-02T10:01:00.000Z"}, "user": "😀", "ip": "10.0.0.9", "n": 9, "ok": true}},
		{"logs-b", "3", map[string]any{"@timestamp": "2026-03-02T10:05:00.000Z", "user": "～", "ip": "::1", "n": -1, "ok": false}},
		{"logs-b", "4", map[string]any{"user": "a", "n": 10}},
		{"other", "5", map[string]any{"@timestamp": "2026-03-02T10:00:00.000Z", "user": "z"}},
	}
	require.NoError(t, f.Add(docs...))
	require.ErrorContains(t, f.Add(Doc{"logs-a", "bad", map[string]any{"n": "x"}}), "not a valid long")
	return f
}

func TestCompositeOrderPagingAndMissing(t *testing.T) {
	f := testFake(t)
	page := func(after string) map[string]any {
		body := `{"size":0,"aggregations":{"c":{"composite":{"size":2,"sources":[
			{"user":{"terms":{"field":"user"}}},
			{"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"5m","missing_bucket":true,"missing_order":"first"}}}]` + after + `}}}}`
		return searchOf(t, f, body)["c"].(map[string]any)
	}
	var keys []string
	after := ""
	for {
		p := page(after)
		for _, b := range p["buckets"].([]any) {
			k, _ := json.Marshal(b.(map[string]any)["key"])
			keys = append(keys, string(k))
		}
		ak, ok := p["after_key"]
		if !ok {
			break
		}
		b, _ := json.Marshal(ak)
		after = `,"after":` + string(b)
	}
	// Keywords by UTF-8 bytes ("～" U+FF5E before "😀"); the null histogram
	// key first; a document in each bucket of its values, once per distinct value.
	require.Equal(t, []string{
		`{"h":null,"user":"a"}`, `{"h":1772445600000,"user":"a"}`, `{"h":1772445600000,"user":"b"}`,
		`{"h":1772445900000,"user":"～"}`, `{"h":1772445600000,"user":"😀"}`,
	}, keys)
}

func TestTermsMinMaxTopHitsAndRange(t *testing.T) {
	f := testFake(t)
	aggs := searchOf(t, f, `{"size":0,"query":{"bool":{"filter":[{"range":{"@timestamp":{"gte":"2026-03-02T10:00:00.000Z","lte":"2026-03-02T10:05:00.000Z","format":"strict_date_optional_time"}}}]}},
		"aggregations":{"t":{"terms":{"field":"ok","size":10},"aggs":{"lo":{"min":{"field":"@timestamp"}},"hi":{"max":{"field":"@timestamp"}},
		"d":{"top_hits":{"size":1,"sort":[{"@timestamp":{"order":"asc"}}],"_source":true,"fields":["*"]}}}},
		"ips":{"composite":{"sources":[{"ip":{"terms":{"field":"ip"}}}]}},
		"nums":{"terms":{"field":"n","include":[10,-1]}}}}`)
	tb := aggs["t"].(map[string]any)["buckets"].([]any)
	require.Len(t, tb, 2)
	first := tb[0].(map[string]any)
	require.Equal(t, float64(0), first["key"], "equal counts order by key: false (0) first")
	require.Equal(t, "false", first["key_as_string"])
	second := tb[1].(map[string]any)
	require.Equal(t, 1772445660000.0, second["lo"].(map[string]any)["value"], "min over an array")
	require.Equal(t, 1772445899999.0, second["hi"].(map[string]any)["value"])
	hit := second["d"].(map[string]any)["hits"].(map[string]any)["hits"].([]any)[0].(map[string]any)
	require.Equal(t, "2", hit["_id"])
	require.Equal(t, []any{1772445660000.0}, hit["sort"])
	require.Equal(t, []any{"2026-03-02T10:04:59.999Z", "2026-03-02T10:01:00.000Z"}, hit["fields"].(map[string]any)["@timestamp"])

	var ips []any
	for _, b := range aggs["ips"].(map[string]any)["buckets"].([]any) {
		ips = append(ips, b.(map[string]any)["key"].(map[string]any)["ip"])
	}
	require.Equal(t, []any{"::1", "10.0.0.9", "10.0.0.10"}, ips, "addresses by their 16 bytes")

	var nums []any
	for _, b := range aggs["nums"].(map[string]any)["buckets"].([]any) {
		nums = append(nums, b.(map[string]any)["key"])
	}
	require.Equal(t, []any{-1.0, 10.0}, nums, "document 4 has no timestamp: one 10 in range; equal counts by key")
}

func TestFilterPathAndIndices(t *testing.T) {
	f := testFake(t)
	body := `{"size":0,"aggregations":{"c":{"composite":{"sources":[{"user":{"terms":{"field":"user"}}}]},"aggs":{"lo":{"min":{"field":"@timestamp"}}}},
		"e":{"composite":{"sources":[{"user":{"terms":{"field":"nothing"}}}]}}}}`
	aggs := searchOf(t, f, body, "aggregations.c.buckets.key", "aggregations.e.buckets.key")
	require.Equal(t, map[string]any{"c": map[string]any{"buckets": []any{
		map[string]any{"key": map[string]any{"user": "a"}}, map[string]any{"key": map[string]any{"user": "b"}},
		map[string]any{"key": map[string]any{"user": "～"}}, map[string]any{"key": map[string]any{"user": "😀"}},
	}}}, aggs, "empty aggregations are dropped")

	tr := NewTransport()
	tr.ServeSearch(f)
	res, err := esapi.SearchRequest{Index: []string{"nothing-*"}, Body: strings.NewReader(`{"aggs":{"x":{"min":{"field":"n"}}}}`),
		FilterPath: []string{"_shards.total", "aggregations"}}.Do(context.Background(), tr)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	require.JSONEq(t, `{"_shards":{"total":0}}`, string(b), "no index: no shards, no aggregations")

	res, err = esapi.SearchRequest{Index: []string{"logs-*", "-logs-b"}, Body: strings.NewReader(`{"query":{"query_string":{"fields":["user"],"query":"a OR b"}}}`)}.Do(context.Background(), tr)
	require.NoError(t, err)
	require.Equal(t, 400, res.StatusCode, "unsupported queries are refused, not guessed")
	res.Body.Close()

	resp, err := f.Search(context.Background(), []string{"logs-*,-logs-b"}, []byte(`{"track_total_hits":true,"query":{"bool":{"must_not":{"wildcard":{"user":{"value":"b*"}}}}}}`), nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), resp.TotalHits)
	require.Equal(t, 1, resp.Shards)
}
