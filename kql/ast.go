package kql

import "strings"

// Node is a parsed KQL expression: *AndNode, *OrNode, *NotNode, *IsNode,
// *RangeNode or *NestedNode (Kibana's function nodes).
type Node interface{ node() }

// AndNode is "a and b and c" (n-ary, at least two children).
type AndNode struct{ Children []Node }

// OrNode is "a or b or c" (n-ary, at least two children).
type OrNode struct{ Children []Node }

// NotNode is "not a".
type NotNode struct{ Child Node }

// IsNode is "field:value". An unfielded term has a Field of Literal{Value: nil}.
type IsNode struct{ Field, Value Term }

// RangeNode is "field < value" and the other comparison operators.
type RangeNode struct {
	Field Term
	Op    RangeOp
	Value Term
}

// NestedNode is "path:{ child }".
type NestedNode struct {
	Path  Term
	Child Node
}

func (*AndNode) node()    {}
func (*OrNode) node()     {}
func (*NotNode) node()    {}
func (*IsNode) node()     {}
func (*RangeNode) node()  {}
func (*NestedNode) node() {}

// RangeOp is the Elasticsearch range parameter of a comparison.
type RangeOp string

// Range operators, named as in the range query.
const (
	OpGT  RangeOp = "gt"
	OpGTE RangeOp = "gte"
	OpLT  RangeOp = "lt"
	OpLTE RangeOp = "lte"
)

// Term is a field name or a value: *Literal or *Wildcard.
type Term interface{ term() }

// Literal is a field name or value without wildcards. Value is a string, or,
// for the unquoted words true, false and null, a bool or nil.
type Literal struct {
	Value  any
	Quoted bool
}

// Wildcard is an unquoted text with at least one unescaped "*". Parts are the
// literal runs between the wildcards: "ab*c" is {"ab", "c"}, "*" is {"", ""}.
type Wildcard struct{ Parts []string }

func (*Literal) term()  {}
func (*Wildcard) term() {}

// IsLone reports whether w is a single "*" and nothing else.
func (w *Wildcard) IsLone() bool {
	return len(w.Parts) == 2 && w.Parts[0] == "" && w.Parts[1] == ""
}

// HasLeading reports whether w starts with "*" and is not a lone "*".
func (w *Wildcard) HasLeading() bool { return !w.IsLone() && w.Parts[0] == "" }

// String returns the pattern with plain "*" wildcards and no escaping.
func (w *Wildcard) String() string { return strings.Join(w.Parts, "*") }

// QueryString returns the pattern for query_string and wildcard queries: the
// query_string reserved characters of every part escaped with a backslash.
func (w *Wildcard) QueryString() string {
	var b strings.Builder
	for i, part := range w.Parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range part {
			if strings.ContainsRune(`+-=&|><!(){}[]^"~*?:\/`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Matches reports whether name matches the pattern ("*" = any run of
// characters, dots included), as Kibana matches wildcard field names.
func (w *Wildcard) Matches(name string) bool {
	first, last := w.Parts[0], w.Parts[len(w.Parts)-1]
	if !strings.HasPrefix(name, first) {
		return false
	}
	name = name[len(first):]
	if len(name) < len(last) || !strings.HasSuffix(name, last) {
		return false
	}
	name = name[:len(name)-len(last)]
	for _, mid := range w.Parts[1 : len(w.Parts)-1] {
		i := strings.Index(name, mid)
		if i < 0 {
			return false
		}
		name = name[i+len(mid):]
	}
	return true
}

// termValue is Kibana's toElasticsearchQuery of a term: the literal value, or
// the wildcard pattern with plain "*".
func termValue(t Term) any {
	switch t := t.(type) {
	case *Literal:
		return t.Value
	case *Wildcard:
		return t.String()
	}
	return nil
}

// jsString renders a literal value as JavaScript's template strings do.
func jsString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	}
	return ""
}

// jsTruthy reports JavaScript truthiness of a literal value.
func jsTruthy(v any) bool {
	switch v := v.(type) {
	case string:
		return v != ""
	case bool:
		return v
	}
	return false
}
