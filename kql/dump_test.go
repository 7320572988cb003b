package kql

import (
	"fmt"
	"strings"
)

// dump renders an AST compactly for golden tests:
// or(is(a,"b"),not(range(c,gt,"1"))), with * for wildcards and ~ for quoted.
func dump(n Node) string {
	switch n := n.(type) {
	case *AndNode:
		return "and(" + dumpAll(n.Children) + ")"
	case *OrNode:
		return "or(" + dumpAll(n.Children) + ")"
	case *NotNode:
		return "not(" + dump(n.Child) + ")"
	case *IsNode:
		return "is(" + dumpTerm(n.Field) + "," + dumpTerm(n.Value) + ")"
	case *RangeNode:
		return "range(" + dumpTerm(n.Field) + "," + string(n.Op) + "," + dumpTerm(n.Value) + ")"
	case *NestedNode:
		return "nested(" + dumpTerm(n.Path) + "," + dump(n.Child) + ")"
	}
	return fmt.Sprintf("?%T", n)
}

func dumpAll(ns []Node) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = dump(n)
	}
	return strings.Join(s, ",")
}

func dumpTerm(t Term) string {
	switch t := t.(type) {
	case *Literal:
		q := ""
		if t.Quoted {
			q = "~"
		}
		if s, ok := t.Value.(string); ok {
			return q + fmt.Sprintf("%q", s)
		}
		return q + jsString(t.Value)
	case *Wildcard:
		return "w" + fmt.Sprintf("%q", t.Parts)
	}
	return "?"
}
