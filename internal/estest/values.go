package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Elasticsearch field types the search fake understands.
const (
	TypeKeyword = "keyword"
	TypeLong    = "long"
	TypeDouble  = "double"
	TypeBoolean = "boolean"
	TypeIP      = "ip"
	TypeDate    = "date"
)

// family groups Elasticsearch types that index and order alike.
func family(esType string) string {
	switch esType {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text":
		return TypeKeyword
	case "long", "integer", "short", "byte", "unsigned_long":
		return TypeLong
	case "double", "float", "half_float", "scaled_float":
		return TypeDouble
	case "boolean":
		return TypeBoolean
	case "ip":
		return TypeIP
	case "date", "date_nanos":
		return TypeDate
	}
	return ""
}

// value is one indexed value of a field, typed by the field's family:
// keyword holds s; long and date hold i (dates in epoch milliseconds);
// double holds f; boolean holds b; ip holds the 16-byte address.
type value struct {
	kind string
	s    string
	i    int64
	f    float64
	b    bool
	ip   netip.Addr
}

// compare orders two values of one family as Elasticsearch's doc values do:
// keywords by UTF-8 bytes, numbers and dates numerically, false before true,
// addresses by their 16-byte (IPv4-mapped) form.
func compare(a, b value) int {
	switch a.kind {
	case TypeKeyword:
		return strings.Compare(a.s, b.s)
	case TypeLong, TypeDate:
		return cmpOrdered(a.i, b.i)
	case TypeDouble:
		return cmpOrdered(a.f, b.f)
	case TypeBoolean:
		return cmpOrdered(btoi(a.b), btoi(b.b))
	case TypeIP:
		x, y := a.ip.As16(), b.ip.As16()
		return bytes.Compare(x[:], y[:])
	}
	panic("estest: compare values of unknown type " + a.kind)
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// key renders v as a composite key or terms key renders it.
func (v value) key() any {
	switch v.kind {
	case TypeKeyword:
		return v.s
	case TypeLong, TypeDate:
		return v.i
	case TypeDouble:
		return v.f
	case TypeBoolean:
		return v.b
	case TypeIP:
		return v.ip.Unmap().String()
	}
	return nil
}

// number is v as a float (the value of a min or max aggregation).
func (v value) number() float64 {
	switch v.kind {
	case TypeLong, TypeDate:
		return float64(v.i)
	case TypeDouble:
		return v.f
	case TypeBoolean:
		return float64(btoi(v.b))
	}
	return math.NaN()
}

// field renders v as the fields API returns it.
func (v value) field() any {
	if v.kind == TypeDate {
		return formatDate(v.i)
	}
	return v.key()
}

// id is a comparable identity of v (for distinct values).
func (v value) id() string { return fmt.Sprintf("%s:%v", v.kind, v.key()) }

func formatDate(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// parseValue converts a source or request value to a value of the family:
// it accepts what Elasticsearch accepts when indexing (numbers given as
// strings, keywords given as numbers or booleans, dates as
// strict_date_optional_time strings or epoch milliseconds).
func parseValue(fam string, v any) (value, error) {
	switch fam {
	case TypeKeyword:
		switch x := v.(type) {
		case string:
			return value{kind: fam, s: x}, nil
		case json.Number:
			return value{kind: fam, s: string(x)}, nil
		case bool:
			return value{kind: fam, s: strconv.FormatBool(x)}, nil
		case float64:
			return value{kind: fam, s: strconv.FormatFloat(x, 'f', -1, 64)}, nil
		case int64:
			return value{kind: fam, s: strconv.FormatInt(x, 10)}, nil
		case int:
			return value{kind: fam, s: strconv.Itoa(x)}, nil
		}
	case TypeLong:
		s, ok := numberText(v)
		if !ok {
			break
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return value{kind: fam, i: i}, nil
		}
		// Elasticsearch truncates a fractional value of an integer field.
		if f, err := strconv.ParseFloat(s, 64); err == nil && math.Abs(f) < math.MaxInt64 {
			return value{kind: fam, i: int64(math.Trunc(f))}, nil
		}
	case TypeDouble:
		if s, ok := numberText(v); ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return value{kind: fam, f: f}, nil
			}
		}
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return value{kind: fam, b: x}, nil
		case string:
			if x == "true" || x == "false" {
				return value{kind: fam, b: x == "true"}, nil
			}
		}
	case TypeIP:
		if s, ok := v.(string); ok {
			if a, err := netip.ParseAddr(s); err == nil {
				return value{kind: fam, ip: a}, nil
			}
		}
	case TypeDate:
		if ms, ok := parseDate(v); ok {
			return value{kind: fam, i: ms}, nil
		}
	}
	return value{}, fmt.Errorf("estest: %v (%T) is not a valid %s value", v, v, fam)
}

// numberText returns the decimal text of a JSON number or numeric string.
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return x, true
		}
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	}
	return "", false
}

// parseDate reads strict_date_optional_time (with or without zone, time or
// fraction; UTC when no zone is given) or epoch milliseconds.
func parseDate(v any) (int64, bool) {
	if s, ok := numberText(v); ok {
		if _, isString := v.(string); !isString || !strings.ContainsAny(s, "-T:") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, false
			}
			return int64(f), true
		}
	}
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// inferType is the type dynamic mapping gives a field from its first value:
// dates for strings in strict_date_optional_time, long or float for numbers,
// boolean, keyword for other strings.
func inferType(v any) string {
	switch x := v.(type) {
	case bool:
		return TypeBoolean
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return TypeLong
		}
		return TypeDouble
	case string:
		if strings.Contains(x, "-") {
			if _, ok := parseDate(x); ok {
				return TypeDate
			}
		}
		return TypeKeyword
	}
	return ""
}
