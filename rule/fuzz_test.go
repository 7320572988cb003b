package rule

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzLoadTOML(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.toml")
	examples, _ := filepath.Glob("../rules/*/*.toml")
	for _, p := range append(seeds, examples...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[rule]\nquery = '''\n"))
	f.Add([]byte("[rule.new_terms]\nhistory_window_start = 3\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rules, problems := parseTOML("fuzz.toml", src)
		if len(problems) == 0 && len(rules) != 1 {
			t.Fatalf("no problems but %d rules", len(rules))
		}
		for _, r := range rules {
			_ = r.Validate()
			r.ApplyDefaults()
		}
	})
}

func FuzzLoadNDJSON(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.ndjson")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		rules, _ := parseJSON("fuzz.json", src)
		for _, r := range rules {
			_ = r.Validate()
		}
	})
}

func FuzzParseDateMath(f *testing.F) {
	for _, s := range []string{"now", "now-7d", "now-1d/d+6h", "2024-01-01||+1M", "now-6m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDateMath(s); err == nil {
			_ = d.At(validationReferenceTime)
		}
		_, _ = ParseInterval(s)
	})
}
