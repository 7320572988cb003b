package oracle

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// prepared is a document reduced to what the rule sees: whether it matches the
// query, its effective timestamp, and its distinct values per new-terms field.
type prepared struct {
	ref    DocRef
	ts     int64 // effective timestamp, epoch ms
	values [][]term
}

// term is one normalised field value with its sort key.
type term struct {
	value any    // string, int64 or bool
	key   string // canonical encoding, unique per value within a field
}

// prepare keeps the documents that match the query and have an effective
// timestamp, in input order.
func prepare(docs []Doc, p Params) ([]prepared, error) {
	var out []prepared
	for _, d := range docs {
		if !p.Match(d.Source) {
			continue
		}
		ts, ok, err := effectiveTimestamp(d.Source, p)
		if err != nil {
			return nil, fmt.Errorf("read timestamp of %s/%s: %w", d.Index, d.ID, err)
		}
		if !ok {
			continue
		}
		pd := prepared{ref: DocRef{d.Index, d.ID}, ts: ts}
		for _, f := range p.Fields {
			vals, err := fieldTerms(d.Source, f)
			if err != nil {
				return nil, fmt.Errorf("read %s of %s/%s: %w", f.Name, d.Index, d.ID, err)
			}
			pd.values = append(pd.values, vals)
		}
		out = append(out, pd)
	}
	return out, nil
}

// effectiveTimestamp is the timestamp the rule filters and aggregates on:
// without override, @timestamp; with override and fallback, the override when
// the document has it, else @timestamp; with fallback disabled, the override only.
func effectiveTimestamp(src map[string]any, p Params) (int64, bool, error) {
	override := p.TimestampOverride
	if override == "" || override == "@timestamp" {
		return timestampOf(src, "@timestamp")
	}
	ts, ok, err := timestampOf(src, override)
	if err != nil || ok || p.FallbackDisabled {
		return ts, ok, err
	}
	return timestampOf(src, "@timestamp")
}

func timestampOf(src map[string]any, field string) (int64, bool, error) {
	vals := values(src, field)
	switch len(vals) {
	case 0:
		return 0, false, nil
	case 1:
	default:
		return 0, false, fmt.Errorf("%s has %d values; the oracle supports one", field, len(vals))
	}
	switch v := vals[0].(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, false, fmt.Errorf("parse %s %q: %w", field, v, err)
		}
		return t.UnixMilli(), true, nil
	default:
		n, err := integer(v)
		if err != nil {
			return 0, false, fmt.Errorf("read %s as epoch millis: %w", field, err)
		}
		return n, true, nil
	}
}

// fieldTerms returns the distinct values of a field in a document, normalised
// to the type the aggregation keys carry.
func fieldTerms(src map[string]any, f Field) ([]term, error) {
	var out []term
	seen := map[string]bool{}
	for _, v := range values(src, f.Name) {
		t, err := normalise(v, f.Type)
		if err != nil {
			return nil, err
		}
		if !seen[t.key] {
			seen[t.key] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func normalise(v any, typ FieldType) (term, error) {
	switch typ {
	case Keyword:
		s, ok := v.(string)
		if !ok {
			return term{}, fmt.Errorf("keyword value %v is a %T", v, v)
		}
		return term{value: s, key: s}, nil
	case Long:
		n, err := integer(v)
		if err != nil {
			return term{}, err
		}
		return term{value: n, key: fmt.Sprint(n)}, nil
	case Boolean:
		switch x := v.(type) {
		case bool:
			return term{value: x, key: fmt.Sprint(x)}, nil
		case string:
			if x == "true" || x == "false" {
				return term{value: x == "true", key: x}, nil
			}
		}
		return term{}, fmt.Errorf("boolean value %v is a %T", v, v)
	case IP:
		s, ok := v.(string)
		if !ok {
			return term{}, fmt.Errorf("ip value %v is a %T", v, v)
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return term{}, fmt.Errorf("parse ip: %w", err)
		}
		a = a.Unmap()
		return term{value: a.String(), key: a.String()}, nil
	}
	return term{}, fmt.Errorf("unknown field type %d", typ)
}

func integer(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("number %v is not an exact integer", x)
		}
		return int64(x), nil
	case json.Number:
		return x.Int64()
	}
	return 0, fmt.Errorf("value %v is a %T, not a number", v, v)
}

// values returns the non-null leaf values of a dotted field, whether the
// document nests objects, uses dotted keys, or mixes both; arrays are flattened.
func values(obj map[string]any, field string) []any {
	var out []any
	for i := 0; i <= len(field); i++ {
		if i < len(field) && field[i] != '.' {
			continue
		}
		v, ok := obj[field[:i]]
		if !ok {
			continue
		}
		if i == len(field) {
			out = appendLeaves(out, v)
		} else if child, ok := v.(map[string]any); ok {
			out = append(out, values(child, field[i+1:])...)
		}
	}
	return out
}

func appendLeaves(out []any, v any) []any {
	switch x := v.(type) {
	case nil:
		return out
	case []any:
		for _, e := range x {
			out = appendLeaves(out, e)
		}
		return out
	}
	return append(out, v)
}
