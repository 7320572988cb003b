package kql

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse checks that parsing never panics, that rejections are
// *SyntaxError with an offset inside the query, and that every accepted query
// translates in untyped mode (and in typed mode without panicking).
func FuzzParse(f *testing.F) {
	for _, v := range loadVectors(f).Vectors {
		f.Add(v.KQL)
	}
	for _, s := range []string{`a:(b or not c)`, `x:{ y:{ z:1 } }`, `a:"\u0041\"\\"`, `a:\ud83d\ude00`, "a:b\u00a0or\u00a0c", `not (a < 5)`} {
		f.Add(s)
	}
	specs := loadVectors(f).FieldSpecs
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not *SyntaxError: %v", q, err, err)
			}
			if se.Offset < 0 || se.Offset > len([]rune(q)) {
				t.Fatalf("Parse(%q): offset %d out of range", q, se.Offset)
			}
			return
		}
		dsl, err := ToDSL(n, DetectionEngine(nil))
		if err != nil {
			t.Fatalf("ToDSL(%q) untyped: %v", q, err)
		}
		if _, err := json.Marshal(dsl); err != nil {
			t.Fatalf("marshal DSL of %q: %v", q, err)
		}
		_, _ = ToDSL(n, DetectionEngine(specs)) // may reject nested misuse, must not panic
	})
}
