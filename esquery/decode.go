package esquery

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	json "github.com/goccy/go-json"
)

// ErrMissingAggregations means a search response lacked the aggregation the
// request asked for (Kibana: "Aggregations were missing on ... search result").
var ErrMissingAggregations = errors.New("aggregations missing from search response")

// TopHit is one document returned by a top_hits aggregation.
type TopHit struct {
	Index  string
	ID     string
	Source map[string]any
	Fields map[string]any
	// SortMillis is the document's sort timestamp in epoch milliseconds
	// (math.MaxInt64 when the document lacks the field).
	SortMillis int64
}

// Bucket is one decoded terms or composite bucket.
type Bucket struct {
	Key Key
	// KeyAsString is the terms bucket's key_as_string (booleans, dates), if any.
	KeyAsString string
	DocCount    int64
	// FirstSeen is the earliest timestamp in epoch milliseconds; valid when
	// HasFirstSeen. With a secondary timestamp it is the min of both sides (docs/semantics.md D1).
	FirstSeen    int64
	HasFirstSeen bool
	// Doc is the oldest document of the bucket, when the request fetched one.
	Doc *TopHit
}

// Page is one decoded composite page. AfterKey is nil when the response had
// no after_key, which ends the paging.
type Page struct {
	Buckets  []Bucket
	AfterKey Key
}

type minAgg struct {
	Value *float64 `json:"value"`
}

type topHitsAgg struct {
	Hits struct {
		Hits []rawHit `json:"hits"`
	} `json:"hits"`
}

type rawHit struct {
	Index  string            `json:"_index"`
	ID     string            `json:"_id"`
	Source map[string]any    `json:"_source"`
	Fields map[string]any    `json:"fields"`
	Sort   []json.RawMessage `json:"sort"`
}

type rawBucket struct {
	Key               json.RawMessage `json:"key"`
	KeyAsString       *string         `json:"key_as_string"`
	DocCount          int64           `json:"doc_count"`
	FirstSeen         *minAgg         `json:"first_seen"`
	FirstSeenFallback *struct {
		FirstSeen *minAgg `json:"first_seen"`
	} `json:"first_seen_fallback"`
	Docs        *topHitsAgg `json:"docs"`
	WithPrimary *struct {
		Docs *topHitsAgg `json:"docs"`
	} `json:"with_primary"`
	WithoutPrimary *struct {
		Docs *topHitsAgg `json:"docs"`
	} `json:"without_primary"`
}

type rawAgg struct {
	AfterKey json.RawMessage `json:"after_key"`
	Buckets  []rawBucket     `json:"buckets"`
}

// mainAgg returns the new_terms aggregation of resp. A response from zero
// shards (no index matched) has no aggregations and yields an empty result;
// any other response without them is an error.
func mainAgg(resp Response) (*rawAgg, error) {
	if len(resp.Aggregations) == 0 {
		if resp.Shards == 0 {
			return &rawAgg{}, nil
		}
		return nil, ErrMissingAggregations
	}
	var aggs map[string]json.RawMessage
	if err := json.Unmarshal(resp.Aggregations, &aggs); err != nil {
		return nil, fmt.Errorf("decode aggregations: %w", err)
	}
	raw, ok := aggs[AggName]
	if !ok || string(raw) == "null" {
		return nil, ErrMissingAggregations
	}
	var a rawAgg
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode %s aggregation: %w", AggName, err)
	}
	if a.Buckets == nil {
		return nil, fmt.Errorf("decode %s aggregation: %w (no buckets)", AggName, ErrMissingAggregations)
	}
	return &a, nil
}

// DecodeComposite decodes a composite page of any phase.
func (q Query) DecodeComposite(resp Response) (Page, error) {
	a, err := mainAgg(resp)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(a.AfterKey) > 0 && string(a.AfterKey) != "null" {
		if p.AfterKey, err = q.compositeKey(a.AfterKey); err != nil {
			return Page{}, fmt.Errorf("decode after_key: %w", err)
		}
	}
	p.Buckets = make([]Bucket, len(a.Buckets))
	for i, rb := range a.Buckets {
		k, err := q.compositeKey(rb.Key)
		if err != nil {
			return Page{}, fmt.Errorf("decode bucket key: %w", err)
		}
		if p.Buckets[i], err = decodeBucket(rb, k); err != nil {
			return Page{}, err
		}
	}
	return p, nil
}

// DecodeTerms decodes the buckets of a terms aggregation (single-field phases
// 2 and 3) in the order Elasticsearch returned them.
func (q Query) DecodeTerms(resp Response) ([]Bucket, error) {
	a, err := mainAgg(resp)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, len(a.Buckets))
	for i, rb := range a.Buckets {
		v, err := decodeValue(rb.Key)
		if err != nil {
			return nil, fmt.Errorf("decode bucket key: %w", err)
		}
		if out[i], err = decodeBucket(rb, Key{v}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DecodeFilters decodes the buckets of a filters aggregation with anonymous
// filters (multi-field phase 3), in request order. Their Key is nil.
func (q Query) DecodeFilters(resp Response) ([]Bucket, error) {
	a, err := mainAgg(resp)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, len(a.Buckets))
	for i, rb := range a.Buckets {
		if out[i], err = decodeBucket(rb, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeBucket(rb rawBucket, k Key) (Bucket, error) {
	b := Bucket{Key: k, DocCount: rb.DocCount}
	if rb.KeyAsString != nil {
		b.KeyAsString = *rb.KeyAsString
	}
	for _, m := range []*minAgg{rb.FirstSeen, fallbackMin(rb)} {
		if m == nil || m.Value == nil || math.IsInf(*m.Value, 0) {
			continue
		}
		v := int64(math.Round(*m.Value))
		if !b.HasFirstSeen || v < b.FirstSeen {
			b.FirstSeen, b.HasFirstSeen = v, true
		}
	}
	var err error
	for _, th := range []*topHitsAgg{rb.Docs, withPrimary(rb), withoutPrimary(rb)} {
		if th == nil || len(th.Hits.Hits) == 0 {
			continue
		}
		h, herr := decodeHit(th.Hits.Hits[0])
		if herr != nil {
			err = herr
			continue
		}
		// The earlier document wins; on a tie the primary-timestamp side (listed first) stays.
		if b.Doc == nil || h.SortMillis < b.Doc.SortMillis {
			b.Doc = &h
		}
	}
	return b, err
}

func fallbackMin(rb rawBucket) *minAgg {
	if rb.FirstSeenFallback == nil {
		return nil
	}
	return rb.FirstSeenFallback.FirstSeen
}

func withPrimary(rb rawBucket) *topHitsAgg {
	if rb.WithPrimary == nil {
		return nil
	}
	return rb.WithPrimary.Docs
}

func withoutPrimary(rb rawBucket) *topHitsAgg {
	if rb.WithoutPrimary == nil {
		return nil
	}
	return rb.WithoutPrimary.Docs
}

func decodeHit(rh rawHit) (TopHit, error) {
	h := TopHit{Index: rh.Index, ID: rh.ID, Source: rh.Source, Fields: rh.Fields, SortMillis: math.MaxInt64}
	if len(rh.Sort) > 0 {
		s := string(bytes.TrimSpace(rh.Sort[0]))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			h.SortMillis = n
		} else if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			h.SortMillis = int64(f)
		} else {
			return h, fmt.Errorf("decode sort value %s of document %s/%s: %w", s, rh.Index, rh.ID, err)
		}
	}
	return h, nil
}

// compositeKey orders a composite key object by q.Fields.
func (q Query) compositeKey(raw json.RawMessage) (Key, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	k := make(Key, len(q.Fields))
	for i, f := range q.Fields {
		v, ok := m[f]
		if !ok {
			return nil, fmt.Errorf("key %s lacks field %q", raw, f)
		}
		k[i] = v
	}
	return k, nil
}

func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// ValueID is a canonical, type-tagged string form of a term value, equal for
// the same value however Elasticsearch spelled it ("2.0" and "2").
func ValueID(v any) string {
	switch x := v.(type) {
	case string:
		return "s:" + x
	case bool:
		if x {
			return "b:true"
		}
		return "b:false"
	case json.Number:
		return "n:" + canonicalNumber(string(x))
	case float64:
		return "n:" + strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return "n:" + strconv.Itoa(x)
	case int64:
		return "n:" + strconv.FormatInt(x, 10)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("?:%v", x)
	}
}

func canonicalNumber(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}

// KeyID is the canonical form of a whole key (see ValueID).
func KeyID(k Key) string {
	var b bytes.Buffer
	for i, v := range k {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(ValueID(v))
	}
	return b.String()
}

// TermsBucketIDs are the canonical forms under which a terms bucket can match
// a composite value: its key, and for booleans and formatted keys its
// key_as_string.
func TermsBucketIDs(b Bucket) []string {
	ids := []string{ValueID(b.Key[0])}
	switch b.KeyAsString {
	case "":
	case "true", "false":
		ids = append(ids, "b:"+b.KeyAsString, "s:"+b.KeyAsString)
	default:
		ids = append(ids, "s:"+b.KeyAsString)
	}
	return ids
}

// JSValues converts term values to what Kibana holds after JSON.parse (the
// new terms of an alert and its _id hash): numbers become float64 (JS
// numbers); strings and booleans stay.
func JSValues(k Key) []any {
	out := make([]any, len(k))
	for i, v := range k {
		if n, ok := v.(json.Number); ok {
			if f, err := strconv.ParseFloat(string(n), 64); err == nil {
				out[i] = f
				continue
			}
		}
		out[i] = v
	}
	return out
}
