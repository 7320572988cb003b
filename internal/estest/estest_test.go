package estest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
)

func TestTransportRoutesRecordsAndFails(t *testing.T) {
	tr := NewTransport()
	tr.On("", "/**", Error(404, "index_not_found_exception", "no such index"))
	health := tr.On(http.MethodGet, "/_cluster/health", Status(503), JSON(200, `{"status":"green"}`))
	c := tr.Client(t)
	ctx := context.Background()

	res, err := esapi.ClusterHealthRequest{}.Do(ctx, c)
	require.NoError(t, err)
	require.Equal(t, 503, res.StatusCode)
	res.Body.Close()
	for range 2 {
		res, err = esapi.ClusterHealthRequest{}.Do(ctx, c)
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

func TestQueriesAndSmallerAggregations(t *testing.T) {
	f := testFake(t)
	count := func(query string) int64 {
		t.Helper()
		resp, err := f.Search(context.Background(), []string{"logs-*"}, []byte(`{"track_total_hits":true,"query":`+query+`}`), nil)
		require.NoError(t, err)
		return resp.TotalHits
	}
	require.EqualValues(t, 4, count(`{"match_all":{}}`))
	require.EqualValues(t, 2, count(`{"term":{"ip":"10.0.0.0/8"}}`), "CIDR terms on ip")
	require.EqualValues(t, 2, count(`{"terms":{"n":[10]}}`))
	require.EqualValues(t, 1, count(`{"prefix":{"user":{"value":"b"}}}`))
	require.EqualValues(t, 2, count(`{"query_string":{"fields":["user"],"query":"a"}}`))
	require.EqualValues(t, 1, count(`{"range":{"n":{"gt":-1,"lt":10}}}`))
	require.EqualValues(t, 2, count(`{"range":{"ip":{"gte":"10.0.0.9"}}}`))
	require.EqualValues(t, 2, count(`{"range":{"@timestamp":{"lt":1772445900000}}}`), "epoch milliseconds")
	require.EqualValues(t, 0, count(`{"term":{"nothing":"x"}}`), "unmapped fields match nothing")
	require.EqualValues(t, 1, count(`{"bool":{"should":[{"term":{"ok":true}},{"term":{"user":"a"}}],"minimum_should_match":"1","must_not":{"exists":{"field":"@timestamp"}}}}`))
	require.EqualValues(t, 0, count(`{"match_none":{}}`))

	aggs := searchOf(t, f, `{"aggs":{"f":{"filters":{"filters":{"with":{"exists":{"field":"ok"}},"without":{"bool":{"must_not":{"exists":{"field":"ok"}}}}}}},
		"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"1m"}},"v":{"value_count":{"field":"user"}}}}`)
	fb := aggs["f"].(map[string]any)["buckets"].(map[string]any)
	require.EqualValues(t, 2, fb["with"].(map[string]any)["doc_count"])
	require.EqualValues(t, 2, fb["without"].(map[string]any)["doc_count"])
	hb := aggs["h"].(map[string]any)["buckets"].([]any)
	require.Len(t, hb, 6, "10:00 to 10:05, empty minutes filled")
	require.EqualValues(t, 0, hb[2].(map[string]any)["doc_count"])
	require.Equal(t, "2026-03-02T10:05:00.000Z", hb[5].(map[string]any)["key_as_string"])
	require.EqualValues(t, 6, aggs["v"].(map[string]any)["value"], "every value of every document")

	_, err := f.Search(context.Background(), nil, []byte(`{"query":{"fuzzy":{"user":"a"}}}`), nil)
	require.ErrorContains(t, err, "unknown query [fuzzy]")
	_, err = f.Search(context.Background(), nil, []byte(`{"aggs":{"x":{"min":{"field":"user"}}}}`), nil)
	require.ErrorContains(t, err, "not supported for aggregation [min]")
	_, err = f.Search(context.Background(), nil, []byte(`{"query":{"term":{"n":"ten"}}}`), nil)
	require.ErrorContains(t, err, "failed to create query")
	require.Len(t, f.Requests(), 15)
}

func TestFilterPathWildcardsAndExclusions(t *testing.T) {
	v := map[string]any{"took": 1, "hits": map[string]any{"total": map[string]any{"value": 3}, "hits": []any{
		map[string]any{"_id": "a", "_source": map[string]any{"x": 1}}, map[string]any{"_id": "b"},
	}}}
	require.Equal(t, map[string]any{"hits": map[string]any{"hits": []any{map[string]any{"_id": "a"}, map[string]any{"_id": "b"}}}},
		FilterPath(v, []string{"hits.hits._id"}))
	require.Equal(t, map[string]any{"hits": map[string]any{"total": map[string]any{"value": 3}}}, FilterPath(v, []string{"**.value"}))
	require.Equal(t, map[string]any{"took": 1, "hits": map[string]any{"hits": []any{map[string]any{"_id": "a"}, map[string]any{"_id": "b"}}}},
		FilterPath(v, []string{"t*,hits.hits", "-hits.hits._source"}))
	require.Equal(t, map[string]any{}, FilterPath(v, []string{"nothing"}))
}

func TestHookAndServeErrors(t *testing.T) {
	f := testFake(t)
	f.Hook = func(n int, req map[string]any) (esquery.Response, bool, error) {
		if n == 1 {
			return esquery.Response{}, true, errors.New("boom")
		}
		return esquery.Response{Took: 7, Shards: 2, TotalHits: 1, Aggregations: []byte(`{"a":{"value":1}}`)}, n == 2, nil
	}
	status, body := f.ServeSearch(nil, []byte(`{}`), nil)
	require.Equal(t, 500, status)
	require.Contains(t, string(body), "boom")
	status, body = f.ServeSearch(nil, []byte(`{}`), nil)
	require.Equal(t, 200, status)
	require.JSONEq(t, `{"took":7,"timed_out":false,"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},
		"hits":{"hits":[],"total":{"value":1,"relation":"eq"}},"aggregations":{"a":{"value":1}}}`, string(body))
	status, body = f.ServeSearch(nil, []byte(`{"query":{"fuzzy":{}}}`), nil)
	require.Equal(t, 400, status)
	require.Contains(t, string(body), "parsing_exception")
	status, _ = f.ServeSearch(nil, []byte(`not json`), nil)
	require.Equal(t, 400, status)

	tr := NewTransport()
	docs := tr.ServeDocuments()
	docs.Put("s", "1", map[string]any{"a": 1})
	res, err := esapi.DeleteRequest{Index: "s", DocumentID: "1"}.Do(context.Background(), tr)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	res.Body.Close()
	require.Nil(t, docs.Source("s", "1"))
	require.Equal(t, map[string]string{"a.b": "keyword", "a.b.raw": "keyword", "t": "date"},
		MappingOf(map[string]any{"mappings": map[string]any{"properties": map[string]any{
			"t": map[string]any{"type": "date"},
			"a": map[string]any{"properties": map[string]any{"b": map[string]any{"type": "keyword", "fields": map[string]any{"raw": map[string]any{"type": "keyword"}}}}},
		}}}))
}

func TestServeHTTP(t *testing.T) {
	tr := NewTransport()
	tr.On(http.MethodGet, "/ok", JSON(200, `{"a":1}`))
	tr.On(http.MethodGet, "/cut", Reply{Body: []byte(`{"took":1,"aggregations":{}}`), CutAfter: 5})
	tr.On(http.MethodGet, "/reset", Fail(errors.New("reset")))
	srv := httptest.NewServer(tr)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/ok")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, `{"a":1}`, string(b))
	require.Equal(t, "Elasticsearch", res.Header.Get(ProductHeader))
	if res, err = http.Get(srv.URL + "/cut"); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	require.Error(t, err, "the connection is closed mid-body")
	_, err = http.Get(srv.URL + "/reset")
	require.Error(t, err, "no answer at all")
}

func TestHangWaitsForTheContext(t *testing.T) {
	tr := NewTransport()
	tr.On("", "/**", Hang())
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://es.test:9200/x", nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(req)
		done <- err
	}()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
