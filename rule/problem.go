package rule

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrRuleInvalid is matched (errors.Is) by every *ValidationError.
var ErrRuleInvalid = errors.New("invalid rule")

// Problem is one thing wrong with a rule or a rule file.
type Problem struct {
	File   string // path, or "built-in"/"" for rules built in code
	Line   int    // 1-based; 0 when unknown
	Field  string // Kibana API field name, e.g. "new_terms_fields"; "" for file-level problems
	Reason string
}

// String formats the problem as "file:line: field: reason", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// ValidationError carries every problem found while loading rules.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "invalid rule: " + lines[0]
	}
	return fmt.Sprintf("%d rule problems:\n%s", len(lines), strings.Join(lines, "\n"))
}

// Is makes errors.Is(err, ErrRuleInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrRuleInvalid }

// sortProblems orders problems by file, then line, keeping the discovery order
// of problems on the same line.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}
