package alerts

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// This file holds the few JavaScript value semantics Kibana's alert code relies
// on: Number(string), String(value) and lodash get.

var jsDecimal = regexp.MustCompile(`^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$`)

// jsWhitespace is what String.prototype.trim (and Number()) strips.
const jsWhitespace = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

// jsNumberFromString is JavaScript's Number(s); ok is false where JS gives NaN.
func jsNumberFromString(s string) (float64, bool) {
	s = strings.Trim(s, jsWhitespace)
	if s == "" {
		return 0, true
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, ok := new(big.Int).SetString(s[2:], base)
			if !ok || strings.ContainsAny(s[2:], "_+-") {
				return 0, false
			}
			f, _ := new(big.Float).SetInt(n).Float64()
			return f, true
		}
	}
	if !jsDecimal.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// jsString is String(v) for decoded JSON values (Array.prototype.join rules
// for nested arrays: null and undefined elements print as "").
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return jsJoin(x, ",")
	case map[string]any:
		return "[object Object]"
	}
	if f, ok := toFloat(v); ok {
		return jsNumberString(f)
	}
	return ""
}

// jsJoin is Array.prototype.join.
func jsJoin(a []any, sep string) string {
	parts := make([]string, len(a))
	for i, e := range a {
		if e != nil {
			parts[i] = jsString(e)
		}
	}
	return strings.Join(parts, sep)
}

// lodashGet is lodash's get(object, path): a key equal to the whole dotted path
// wins, otherwise the path is split on dots and followed through objects (and
// array indices). Missing paths give nil.
func lodashGet(obj any, path string) any {
	if m, ok := obj.(map[string]any); ok {
		if v, ok := m[path]; ok {
			return v
		}
	}
	cur := obj
	for _, seg := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

// isSafeInteger is Number.isSafeInteger for a JSON number.
func isSafeInteger(v any) bool {
	f, ok := toFloat(v)
	return ok && f == math.Trunc(f) && math.Abs(f) <= 1<<53-1
}
