package kql

import (
	"fmt"
	"slices"
	"strings"
)

// SyntaxError is a query Kibana's KQL parser rejects. Message is the text
// Kibana's parser produces, for example
// `Expected AND, OR, or end of input but "n" found.`
type SyntaxError struct {
	// Offset is the 0-based character (rune) position of the problem.
	// Kibana counts UTF-16 units; the two differ only after characters
	// outside the Basic Multilingual Plane.
	Offset  int
	Message string
	// Query is the query text, for Pointer.
	Query string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("KQL syntax error at position %d: %s", e.Offset, e.Message)
}

// Pointer returns the query and a second line with a caret under the
// offending character, as Kibana shows it.
func (e *SyntaxError) Pointer() string {
	return e.Query + "\n" + strings.Repeat("-", e.Offset) + "^"
}

// NestedFieldError is a typed-mode error: a field is used inside or outside a
// nested group against its mapping. Several are combined with errors.Join,
// whose text then equals Kibana's (one message per line).
type NestedFieldError struct {
	Field   string
	Message string
}

func (e *NestedFieldError) Error() string { return e.Message }

// Expectation texts as Kibana's parser prints them.
const (
	expEnd        = "end of input"
	expWhitespace = "whitespace"
	expFieldName  = "fieldName"
	expValue      = "value"
	expLiteral    = "literal"
	expOr         = "OR"
	expAnd        = "AND"
	expNot        = "NOT"
)

const msgLeadingWildcards = "Leading wildcards are disabled. See query:allowLeadingWildcards in Advanced Settings."

// expect records that desc was expected at the current position, the way the
// generated PEG parser does: only outside named rules and look-aheads, and
// only the expectations at the furthest position are kept.
func (p *parser) expect(desc string) {
	if !p.track || p.silent > 0 || p.pos < p.failPos {
		return
	}
	if p.pos > p.failPos {
		p.failPos = p.pos
		p.expected = p.expected[:0]
	}
	p.expected = append(p.expected, desc)
}

// syntaxError builds the parser's message from the recorded expectations.
func (p *parser) syntaxError() *SyntaxError {
	found := "end of input"
	if p.failPos < len(p.in) {
		found = `"` + escapeFound(p.in[p.failPos]) + `"`
	}
	return &SyntaxError{
		Offset:  p.failPos,
		Message: "Expected " + describeExpected(p.expected) + " but " + found + " found.",
		Query:   string(p.in),
	}
}

// describeExpected sorts and deduplicates like the parser generator, then
// joins as "a, b, or c".
func describeExpected(expected []string) string {
	d := slices.Clone(expected)
	slices.Sort(d)
	d = slices.Compact(d)
	switch len(d) {
	case 0:
		return "nothing"
	case 1:
		return d[0]
	case 2:
		return d[0] + " or " + d[1]
	}
	return strings.Join(d[:len(d)-1], ", ") + ", or " + d[len(d)-1]
}

// escapeFound escapes the found character as the parser generator does.
func escapeFound(r rune) string {
	switch r {
	case '\\':
		return `\\`
	case '"':
		return `\"`
	case 0:
		return `\0`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	}
	if r < 0x10 {
		return fmt.Sprintf(`\x0%X`, r)
	}
	if r < 0x20 || 0x7f <= r && r <= 0x9f {
		return fmt.Sprintf(`\x%X`, r)
	}
	return string(r)
}
