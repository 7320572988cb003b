package esquery

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func aggResponse(aggs string) Response {
	return Response{Took: 1, Shards: 1, Aggregations: json.RawMessage(aggs)}
}

func TestDecodeCompositeKeepsTypes(t *testing.T) {
	q := Query{Fields: []string{"b", "ip", "n"}}
	// As Elasticsearch 8.19 answers a composite over boolean, ip and long fields.
	page, err := q.DecodeComposite(aggResponse(`{"new_terms":{"after_key":{"b":true,"ip":"10.0.0.1","n":5},
	  "buckets":[{"key":{"b":false,"ip":"::1","n":9007199254740993},"doc_count":1},
	             {"key":{"ip":"10.0.0.1","n":5,"b":true},"doc_count":2}]}}`))
	require.NoError(t, err)
	require.Equal(t, Key{true, "10.0.0.1", json.Number("5")}, page.AfterKey)
	require.Equal(t, Key{false, "::1", json.Number("9007199254740993")}, page.Buckets[0].Key)
	require.Equal(t, Key{true, "10.0.0.1", json.Number("5")}, page.Buckets[1].Key)

	b, err := json.Marshal(q.afterKey(page.Buckets[0].Key))
	require.NoError(t, err)
	require.JSONEq(t, `{"b":false,"ip":"::1","n":9007199254740993}`, string(b), "after keys keep exact numbers")
}

func TestDecodeCompositeEndOfPages(t *testing.T) {
	q := Query{Fields: []string{"k"}}
	page, err := q.DecodeComposite(aggResponse(`{"new_terms":{"buckets":[]}}`))
	require.NoError(t, err)
	require.Nil(t, page.AfterKey)
	require.Empty(t, page.Buckets)
}

func TestDecodeMissingAggregations(t *testing.T) {
	q := Query{Fields: []string{"k"}}
	_, err := q.DecodeComposite(Response{Shards: 3})
	require.ErrorIs(t, err, ErrMissingAggregations)
	_, err = q.DecodeTerms(aggResponse(`{"other":{}}`))
	require.ErrorIs(t, err, ErrMissingAggregations)
	_, err = q.DecodeComposite(aggResponse(`{"new_terms":{}}`))
	require.ErrorIs(t, err, ErrMissingAggregations)

	// No index matched: Elasticsearch answers from zero shards without aggregations.
	page, err := q.DecodeComposite(Response{Shards: 0})
	require.NoError(t, err)
	require.Nil(t, page.AfterKey)
}

func TestDecodeFirstSeen(t *testing.T) {
	q := Query{Fields: []string{"k"}}
	buckets, err := q.DecodeTerms(aggResponse(`{"new_terms":{"buckets":[
	  {"key":"both","doc_count":3,"first_seen":{"value":1714557600000.0},"first_seen_fallback":{"doc_count":1,"first_seen":{"value":1714550000000.0}}},
	  {"key":"primary","doc_count":2,"first_seen":{"value":1714557600000.0},"first_seen_fallback":{"doc_count":0,"first_seen":{"value":null}}},
	  {"key":"fallback","doc_count":1,"first_seen":{"value":null},"first_seen_fallback":{"doc_count":1,"first_seen":{"value":1714550000000.0}}},
	  {"key":"none","doc_count":1,"first_seen":{"value":null}}]}}`))
	require.NoError(t, err)
	require.Len(t, buckets, 4)
	require.True(t, buckets[0].HasFirstSeen)
	require.Equal(t, int64(1714550000000), buckets[0].FirstSeen)
	require.Equal(t, int64(1714557600000), buckets[1].FirstSeen)
	require.Equal(t, int64(1714550000000), buckets[2].FirstSeen)
	require.False(t, buckets[3].HasFirstSeen)
}

func TestDecodeDocPicksEarlierSide(t *testing.T) {
	q := Query{Fields: []string{"k"}}
	hit := func(id string, sort string) string {
		return `{"hits":{"hits":[{"_index":"i","_id":"` + id + `","_source":{"k":"x"},"fields":{"k":["x"]},"sort":[` + sort + `]}]}}`
	}
	empty := `{"hits":{"hits":[]}}`
	buckets, err := q.DecodeTerms(aggResponse(`{"new_terms":{"buckets":[
	  {"key":"a","doc_count":2,"with_primary":{"doc_count":1,"docs":` + hit("p", "200") + `},"without_primary":{"doc_count":1,"docs":` + hit("s", "100") + `}},
	  {"key":"b","doc_count":2,"with_primary":{"doc_count":1,"docs":` + hit("p", "100") + `},"without_primary":{"doc_count":1,"docs":` + hit("s", "100") + `}},
	  {"key":"c","doc_count":1,"with_primary":{"doc_count":0,"docs":` + empty + `},"without_primary":{"doc_count":1,"docs":` + hit("s", "300") + `}},
	  {"key":"d","doc_count":1,"docs":` + hit("only", "9223372036854775807") + `}]}}`))
	require.NoError(t, err)
	require.Equal(t, "s", buckets[0].Doc.ID)
	require.Equal(t, "p", buckets[1].Doc.ID, "a tie goes to the primary-timestamp side")
	require.Equal(t, "s", buckets[2].Doc.ID)
	require.Equal(t, int64(math.MaxInt64), buckets[3].Doc.SortMillis)
	require.Equal(t, map[string]any{"k": "x"}, buckets[0].Doc.Source)
	require.Equal(t, map[string]any{"k": []any{"x"}}, buckets[0].Doc.Fields)
}

func TestTermsBucketMatchesCompositeValue(t *testing.T) {
	cases := []struct {
		name      string
		composite any
		bucket    Bucket
	}{
		{"keyword", "x", Bucket{Key: Key{"x"}}},
		{"boolean", true, Bucket{Key: Key{json.Number("1")}, KeyAsString: "true"}},
		{"long", json.Number("9007199254740993"), Bucket{Key: Key{json.Number("9007199254740993")}}},
		{"double", json.Number("2.0"), Bucket{Key: Key{json.Number("2")}}},
		{"date", json.Number("1704067200000"), Bucket{Key: Key{json.Number("1704067200000")}, KeyAsString: "2024-01-01T00:00:00.000Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, TermsBucketIDs(tc.bucket), ValueID(tc.composite))
		})
	}
	require.NotEqual(t, ValueID("1"), ValueID(json.Number("1")), "types are part of the identity")
	require.NotEqual(t, ValueID("true"), ValueID(true))
}

func TestDecodeFilters(t *testing.T) {
	q := Query{Fields: []string{"a", "b"}}
	buckets, err := q.DecodeFilters(aggResponse(`{"new_terms":{"buckets":[
	  {"doc_count":1,"docs":{"hits":{"hits":[{"_index":"i","_id":"1","_source":{},"sort":[5]}]}}},
	  {"doc_count":0,"docs":{"hits":{"hits":[]}}}]}}`))
	require.NoError(t, err)
	require.Len(t, buckets, 2)
	require.Equal(t, "1", buckets[0].Doc.ID)
	require.Nil(t, buckets[1].Doc)
}
