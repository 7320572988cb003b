package logging

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoUnitlessDurationsInLogs scans the module's code: a zerolog
// duration field (Dur) is ECS's event.duration (nanoseconds, UTC clock
// set by UseECS); any other duration must carry its unit in its name.
func TestNoUnitlessDurationsInLogs(t *testing.T) {
	dur := regexp.MustCompile(`\.Dur\("([^"]+)"`)
	durs := regexp.MustCompile(`\.Durs\(`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range dur.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "event.duration" {
				t.Errorf("%s: Dur(%q): name durations event.duration, or log them with a unit (Int64(\"%s_ms\", ...))", path, m[1], m[1])
			}
		}
		if durs.Match(b) {
			t.Errorf("%s: Durs: log durations with a unit in the name", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
