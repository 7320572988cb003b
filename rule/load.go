package rule

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxFileSize bounds a rule file (1 MiB); larger files are reported, not read.
const MaxFileSize = 1 << 20

// LoadResult is what LoadFiles found.
type LoadResult struct {
	Rules []*Rule
	// Skipped lists files met while walking directories whose extension is
	// not a rule format (.toml, .ndjson, .jsonl, .json); callers may log them.
	Skipped []string
}

// Load reads rules from files and directories (walked recursively, symbolic
// links followed, loops refused). TOML files are detection-rules files;
// .ndjson, .jsonl and .json files are Kibana exports. Every problem in every
// file is returned at once as a *ValidationError, and then no rule is
// returned. Callers use Builtin() when there are no paths.
func Load(paths []string) ([]*Rule, error) {
	res, err := LoadFiles(paths)
	return res.Rules, err
}

// LoadFiles is Load that also reports the files it skipped.
func LoadFiles(paths []string) (LoadResult, error) {
	l := loader{seenFiles: map[string]bool{}, seenDirs: map[string]bool{}}
	for _, p := range paths {
		l.loadPath(p)
	}
	if len(l.problems) == 0 && len(l.rules) == 0 {
		l.problems = append(l.problems, Problem{File: strings.Join(paths, ","),
			Reason: "no rules found (want .toml, .ndjson, .jsonl or .json files)"})
	}
	l.checkDuplicates()
	if len(l.problems) > 0 {
		sortProblems(l.problems)
		return LoadResult{Skipped: l.skipped}, &ValidationError{Problems: l.problems}
	}
	return LoadResult{Rules: l.rules, Skipped: l.skipped}, nil
}

type loader struct {
	rules     []*Rule
	problems  []Problem
	skipped   []string
	seenFiles map[string]bool // resolved paths already read
	seenDirs  map[string]bool // resolved directories already walked
}

func (l *loader) fail(file, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: file, Reason: fmt.Sprintf(format, args...)})
}

// loadPath reads a path given by the user: a file of any known format (an
// unknown extension is a problem here) or a directory.
func (l *loader) loadPath(path string) {
	info, err := os.Stat(path)
	if err != nil {
		l.fail(path, "read rules: %v", err)
		return
	}
	if info.IsDir() {
		l.walkDir(path, nil)
		return
	}
	if formatOf(path) == nil {
		l.fail(path, "unknown rule file extension %q: want .toml, .ndjson, .jsonl or .json", filepath.Ext(path))
		return
	}
	l.loadFile(path)
}

// walkDir reads every rule file below dir. ancestors are the resolved
// directories on the way down, to refuse symbolic-link loops.
func (l *loader) walkDir(dir string, ancestors []string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		l.fail(dir, "resolve directory: %v", err)
		return
	}
	real, _ = filepath.Abs(real)
	for _, a := range ancestors {
		if a == real {
			l.fail(dir, "symbolic link loop: %s is already being walked", real)
			return
		}
	}
	if l.seenDirs[real] {
		return // reached twice without a loop, e.g. named twice
	}
	l.seenDirs[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.fail(dir, "read directory: %v", err)
		return
	}
	ancestors = append(ancestors, real)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // .git, editor files
		}
		path := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				l.fail(path, "follow symbolic link: %v", err)
				continue
			}
			isDir = info.IsDir()
		}
		switch {
		case isDir:
			l.walkDir(path, ancestors)
		case formatOf(path) == nil:
			l.skipped = append(l.skipped, path)
		default:
			l.loadFile(path)
		}
	}
}

type parseFunc func(file string, src []byte) ([]*Rule, []Problem)

func formatOf(path string) parseFunc {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		return parseTOML
	case ".ndjson", ".jsonl":
		return parseNDJSON
	case ".json":
		return parseJSON
	}
	return nil
}

func (l *loader) loadFile(path string) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, _ = filepath.Abs(real)
		if l.seenFiles[real] {
			return
		}
		l.seenFiles[real] = true
	}
	src, err := readBounded(path)
	if err != nil {
		l.fail(path, "%v", err)
		return
	}
	rules, problems := formatOf(path)(path, src)
	l.problems = append(l.problems, problems...)
	for _, r := range rules {
		// A rule that does not normalize has a validation problem reported
		// already; only an unexpected failure is reported here.
		if err := r.Normalize(); err != nil {
			if len(problems) == 0 {
				l.fail(path, "%v", err)
			}
			continue
		}
		l.rules = append(l.rules, r)
	}
}

func readBounded(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read rule file: not a regular file")
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("rule file is larger than %d bytes (1 MiB)", MaxFileSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("rule file is larger than %d bytes (1 MiB)", MaxFileSize)
	}
	return src, nil
}

// checkDuplicates reports rules that share a saved-object id or a rule_id,
// naming both places.
func (l *loader) checkDuplicates() {
	byID := map[string]*Rule{}
	byRuleID := map[string]*Rule{}
	for _, r := range l.rules {
		var dupOf *Rule
		if id := r.SavedObjectID(); id != "" {
			if first, ok := byID[id]; ok {
				dupOf = first
				l.problems = append(l.problems, duplicate(r, "id", id, first))
			} else {
				byID[id] = r
			}
		}
		if r.RuleID == "" {
			continue
		}
		if first, ok := byRuleID[r.RuleID]; ok {
			if first != dupOf {
				l.problems = append(l.problems, duplicate(r, "rule_id", r.RuleID, first))
			}
		} else {
			byRuleID[r.RuleID] = r
		}
	}
}

func duplicate(r *Rule, field, id string, first *Rule) Problem {
	file, line := SplitOrigin(r.Origin)
	return Problem{File: file, Line: line, Field: field,
		Reason: fmt.Sprintf("duplicate rule %s %q: also defined in %s", field, id, first.Origin)}
}

// SplitOrigin splits a rule's Origin "file:line" (NDJSON origins) into its
// parts; an Origin without a line gives line 0.
func SplitOrigin(origin string) (string, int) {
	i := strings.LastIndexByte(origin, ':')
	if i < 0 {
		return origin, 0
	}
	var n int
	if _, err := fmt.Sscanf(origin[i+1:], "%d", &n); err != nil || n <= 0 {
		return origin, 0
	}
	return origin[:i], n
}
