package alerts

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// objectHash reproduces npm object-hash (v1.3.1–3.0.0) with its default
// options (SHA-1, hex) for the value kinds that decoded JSON can hold:
// arrays, strings, numbers, booleans and null.
func objectHash(v any) string {
	h := sha1.New()
	writeObjectHash(h, v)
	return hex.EncodeToString(h.Sum(nil))
}

// objectHashPreimage returns the text object-hash feeds into SHA-1 for v.
func objectHashPreimage(v any) string {
	var b strings.Builder
	writeObjectHash(&b, v)
	return b.String()
}

func writeObjectHash(w io.Writer, v any) {
	write := func(s string) { _, _ = w.Write([]byte(s)) }
	switch x := v.(type) {
	case nil:
		write("Null")
	case string:
		write("string:" + strconv.Itoa(utf16Len(x)) + ":")
		write(x)
	case bool:
		write("bool:" + strconv.FormatBool(x))
	case []any:
		write("array:" + strconv.Itoa(len(x)) + ":")
		for _, e := range x {
			writeObjectHash(w, e)
		}
	case []string:
		write("array:" + strconv.Itoa(len(x)) + ":")
		for _, e := range x {
			writeObjectHash(w, e)
		}
	default:
		if f, ok := toFloat(v); ok {
			write("number:" + jsNumberString(f))
			return
		}
		// Objects never occur as term values; object-hash would mix prototype
		// details into them. Hash the JSON (or Go) text so the id stays stable.
		s := fmt.Sprint(v)
		if b, err := json.Marshal(v); err == nil {
			s = string(b)
		}
		write("string:" + strconv.Itoa(utf16Len(s)) + ":")
		write(s)
	}
}

// utf16Len is JavaScript's String.prototype.length: UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if utf16.IsSurrogate(r) || r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// toFloat converts the numeric kinds decoded JSON may carry to float64 the way
// JavaScript would hold them (json.Number text is parsed to the nearest double).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			// Out of range: JS gives ±Infinity, which ParseFloat also returns with the error.
			if errors.Is(err, strconv.ErrRange) {
				return f, true
			}
			return 0, false
		}
		return f, true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// isNumber reports whether v is a JSON number (typeof v === "number" in JS).
func isNumber(v any) bool {
	_, ok := toFloat(v)
	return ok
}

// jsNumberString is JavaScript's Number.prototype.toString() (radix 10):
// the shortest round-trip digits, plain notation for exponents in [-7, 21),
// otherwise "d.ddde+X"/"de-X"; -0 prints as "0".
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	// 'e' with precision -1 gives the shortest digits: d.ddddde±XX.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	k := len(digits)
	n := exp + 1 // value = 0.digits × 10^n
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		es := "+"
		if n-1 < 0 {
			es = "-"
		}
		ev := n - 1
		if ev < 0 {
			ev = -ev
		}
		if k == 1 {
			out = digits + "e" + es + strconv.Itoa(ev)
		} else {
			out = digits[:1] + "." + digits[1:] + "e" + es + strconv.Itoa(ev)
		}
	}
	return sign + out
}
