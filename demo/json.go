package demo

import (
	"strconv"
	"time"
)

// jsonWriter appends a JSON object to a byte slice without reflection. The
// generator writes millions of documents, and encoding/json would make
// generation slower than indexing. Keys and values are written in call order;
// the caller opens and closes objects and arrays.
type jsonWriter struct {
	buf       []byte
	needComma bool
}

func (w *jsonWriter) sep() {
	if w.needComma {
		w.buf = append(w.buf, ',')
	}
}

func (w *jsonWriter) key(k string) {
	w.sep()
	if k != "" {
		// Keys are constants of this package and never need escaping.
		w.buf = append(w.buf, '"')
		w.buf = append(w.buf, k...)
		w.buf = append(w.buf, '"', ':')
	}
}

// open starts an object under key k ("" inside an array or at the top level).
func (w *jsonWriter) open(k string) {
	w.key(k)
	w.buf = append(w.buf, '{')
	w.needComma = false
}

func (w *jsonWriter) close() {
	w.buf = append(w.buf, '}')
	w.needComma = true
}

// openArray starts an array under key k.
func (w *jsonWriter) openArray(k string) {
	w.key(k)
	w.buf = append(w.buf, '[')
	w.needComma = false
}

func (w *jsonWriter) closeArray() {
	w.buf = append(w.buf, ']')
	w.needComma = true
}

// str writes a string member; an empty value is skipped, as the Okta ingest
// pipeline drops empty values.
func (w *jsonWriter) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.buf = appendJSONString(w.buf, v)
	w.needComma = true
}

func (w *jsonWriter) strs(k string, vs ...string) {
	if len(vs) == 0 {
		return
	}
	w.openArray(k)
	for _, v := range vs {
		w.sep()
		w.buf = appendJSONString(w.buf, v)
		w.needComma = true
	}
	w.closeArray()
}

func (w *jsonWriter) integer(k string, v int) {
	w.key(k)
	w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	w.needComma = true
}

func (w *jsonWriter) float(k string, v float64) {
	w.key(k)
	w.buf = strconv.AppendFloat(w.buf, v, 'f', 4, 64)
	w.needComma = true
}

func (w *jsonWriter) boolean(k string, v bool) {
	w.key(k)
	w.buf = strconv.AppendBool(w.buf, v)
	w.needComma = true
}

func (w *jsonWriter) null(k string) {
	w.key(k)
	w.buf = append(w.buf, "null"...)
	w.needComma = true
}

// timeMillis writes t as ISO-8601 UTC with milliseconds, like Okta's published.
func (w *jsonWriter) timeMillis(k string, t time.Time) {
	w.key(k)
	w.buf = append(w.buf, '"')
	w.buf = t.UTC().AppendFormat(w.buf, "2006-01-02T15:04:05.000Z07:00")
	w.buf = append(w.buf, '"')
	w.needComma = true
}

// timeSeconds writes t as ISO-8601 UTC with whole seconds, like Fleet's
// event.ingested.
func (w *jsonWriter) timeSeconds(k string, t time.Time) {
	w.key(k)
	w.buf = append(w.buf, '"')
	w.buf = t.UTC().AppendFormat(w.buf, "2006-01-02T15:04:05Z07:00")
	w.buf = append(w.buf, '"')
	w.needComma = true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
