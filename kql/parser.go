package kql

import (
	"errors"
	"fmt"
)

// The parser is a recursive descent that mirrors Kibana's PEG grammar rule by
// rule (ordered choice, backtracking, look-ahead). Each rule method either
// succeeds and advances p.pos, or fails and leaves p.pos where it started.
//
// Error reporting follows the generated parser too: failures of literals and
// named rules (fieldName, value, literal, OR, AND, NOT, whitespace) are
// recorded at the furthest position, nothing is recorded inside named rules
// and look-aheads, and, because Kibana compiles the grammar with result
// caching, a rule evaluated again at the same position records nothing. Only
// "whitespace" is ever first evaluated silently and later loudly, so that is
// the one rule whose evaluations are remembered (spaceSeen).
//
// Parsing runs once without any of that bookkeeping; only a failed parse is
// repeated with tracking on to build the message.

// maxDepth bounds nesting of (), {} and value lists, so a hostile query
// cannot exhaust the stack.
const maxDepth = 1000

type parser struct {
	in           []rune
	pos          int
	allowLeading bool
	depth        int
	buf          []rune // scratch for literal characters
	lastField    fieldResult

	track     bool // record expectations (second pass)
	silent    int  // > 0 inside named rules and look-aheads
	failPos   int
	expected  []string
	spaceSeen []bool // Space evaluated at this position before
}

// abort carries an error that ends parsing at once (Kibana's error() call).
type abort struct{ err *SyntaxError }

var errRetry = errors.New("parse failed")

// run parses the whole input.
func (p *parser) run() (n Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(abort)
			if !ok {
				panic(r)
			}
			n, err = nil, a.err
		}
	}()
	n = p.start()
	if p.pos == len(p.in) {
		return n, nil
	}
	if !p.track {
		return nil, errRetry
	}
	p.expect(expEnd)
	return nil, p.syntaxError()
}

func (p *parser) fatal(offset int, msg string) {
	panic(abort{&SyntaxError{Offset: offset, Message: msg, Query: string(p.in)}})
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fatal(p.pos, fmt.Sprintf("Query nested too deeply (more than %d levels).", maxDepth))
	}
}

func (p *parser) leave() { p.depth-- }

// start <- Space* OrQuery? Space*
func (p *parser) start() Node {
	p.spaces()
	n, ok := p.orQuery()
	p.spaces()
	if !ok {
		// Kibana: is(*, *), i.e. match_all.
		return &IsNode{Field: &Wildcard{Parts: []string{"", ""}}, Value: &Wildcard{Parts: []string{"", ""}}}
	}
	return n
}

// OrQuery <- AndQuery (OR AndQuery)*
func (p *parser) orQuery() (Node, bool) {
	head, ok := p.andQuery()
	if !ok {
		return nil, false
	}
	var nodes []Node
	for {
		save := p.pos
		if !p.binaryKeyword(expOr, "or") {
			break
		}
		n, ok := p.andQuery()
		if !ok {
			p.pos = save
			break
		}
		if nodes == nil {
			nodes = []Node{head}
		}
		nodes = append(nodes, n)
	}
	if nodes == nil {
		return head, true
	}
	return &OrNode{Children: nodes}, true
}

// AndQuery <- NotQuery (AND NotQuery)*
func (p *parser) andQuery() (Node, bool) {
	head, ok := p.notQuery()
	if !ok {
		return nil, false
	}
	var nodes []Node
	for {
		save := p.pos
		if !p.binaryKeyword(expAnd, "and") {
			break
		}
		n, ok := p.notQuery()
		if !ok {
			p.pos = save
			break
		}
		if nodes == nil {
			nodes = []Node{head}
		}
		nodes = append(nodes, n)
	}
	if nodes == nil {
		return head, true
	}
	return &AndNode{Children: nodes}, true
}

// NotQuery <- NOT SubQuery / SubQuery
func (p *parser) notQuery() (Node, bool) {
	save := p.pos
	if p.notKeyword() {
		if n, ok := p.subQuery(); ok {
			return &NotNode{Child: n}, true
		}
		p.pos = save
	}
	return p.subQuery()
}

// SubQuery <- '(' Space* OrQuery Space* ')' / NestedQuery
func (p *parser) subQuery() (Node, bool) {
	save := p.pos
	if p.char('(', `"("`) {
		p.enter()
		p.spaces()
		n, ok := p.orQuery()
		if ok {
			p.spaces()
			ok = p.char(')', `")"`)
		}
		p.leave()
		if ok {
			return n, true
		}
		p.pos = save
	}
	return p.nestedQuery()
}

// NestedQuery <- Field Space* ':' Space* '{' Space* OrQuery Space* '}' / Expression
func (p *parser) nestedQuery() (Node, bool) {
	save := p.pos
	if path, ok := p.field(); ok {
		p.spaces()
		if p.char(':', `":"`) {
			p.spaces()
			if p.char('{', `"{"`) {
				p.enter()
				p.spaces()
				child, ok := p.orQuery()
				if ok {
					p.spaces()
					ok = p.char('}', `"}"`)
				}
				p.leave()
				if ok {
					return &NestedNode{Path: path, Child: child}, true
				}
			}
		}
	}
	p.pos = save
	return p.expression()
}

// Expression <- FieldRangeExpression / FieldValueExpression / ValueExpression
func (p *parser) expression() (Node, bool) {
	if n, ok := p.fieldRange(); ok {
		return n, true
	}
	if n, ok := p.fieldValue(); ok {
		return n, true
	}
	t, ok := p.value()
	if !ok {
		return nil, false
	}
	return t.apply(&Literal{Value: nil}), true
}

// FieldRangeExpression <- Field Space* RangeOperator Space* Literal
func (p *parser) fieldRange() (Node, bool) {
	save := p.pos
	f, ok := p.field()
	if !ok {
		return nil, false
	}
	p.spaces()
	if op, ok := p.rangeOp(); ok {
		p.spaces()
		if v, ok := p.literal(expLiteral); ok {
			return &RangeNode{Field: f, Op: op, Value: v}, true
		}
	}
	p.pos = save
	return nil, false
}

// RangeOperator <- '<=' / '>=' / '<' / '>'
func (p *parser) rangeOp() (RangeOp, bool) {
	switch {
	case p.str("<=", `"<="`):
		return OpLTE, true
	case p.str(">=", `">="`):
		return OpGTE, true
	case p.char('<', `"<"`):
		return OpLT, true
	case p.char('>', `">"`):
		return OpGT, true
	}
	return "", false
}

// FieldValueExpression <- Field Space* ':' Space* ListOfValues
func (p *parser) fieldValue() (Node, bool) {
	save := p.pos
	f, ok := p.field()
	if !ok {
		return nil, false
	}
	p.spaces()
	if p.char(':', `":"`) {
		p.spaces()
		if t, ok := p.listOfValues(); ok {
			return t.apply(f), true
		}
	}
	p.pos = save
	return nil, false
}

// Field "fieldName" <- Literal
//
// NestedQuery, FieldRangeExpression and FieldValueExpression all start with
// Field at the same position; the last result is kept (like the generated
// parser's cache) so the literal is decoded once.
func (p *parser) field() (Term, bool) {
	if c := &p.lastField; c.valid && c.start == p.pos {
		p.pos = c.end
		return c.t, c.ok
	}
	start := p.pos
	t, ok := p.literal(expFieldName)
	p.lastField = fieldResult{valid: true, start: start, end: p.pos, t: t, ok: ok}
	return t, ok
}

type fieldResult struct {
	valid      bool
	start, end int
	t          Term
	ok         bool
}

// Literal "literal" <- QuotedString / UnquotedLiteral (also Field, named
// differently).
func (p *parser) literal(name string) (Term, bool) {
	p.silent++
	t, ok := p.quotedString()
	if !ok {
		t, ok = p.unquotedLiteral()
	}
	p.silent--
	if !ok {
		p.expect(name)
	}
	return t, ok
}

// Value "value" <- QuotedString / UnquotedLiteral, with the leading-wildcard
// check of Kibana's action.
func (p *parser) value() (valueTree, bool) {
	start := p.pos
	p.silent++
	t, ok := p.quotedString()
	if !ok {
		t, ok = p.unquotedLiteral()
		if w, isWildcard := t.(*Wildcard); ok && isWildcard && !p.allowLeading && w.HasLeading() {
			p.fatal(start, msgLeadingWildcards)
		}
	}
	p.silent--
	if !ok {
		p.expect(expValue)
		return nil, false
	}
	return valueLeaf{t}, true
}
