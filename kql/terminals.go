package kql

import "strings"

var wildcardMarkRunes = []rune(wildcardMark)

// char matches one character; desc is its expectation text.
func (p *parser) char(r rune, desc string) bool {
	if p.pos < len(p.in) && p.in[p.pos] == r {
		p.pos++
		return true
	}
	p.expect(desc)
	return false
}

// str matches a two-character operator.
func (p *parser) str(s string, desc string) bool {
	if p.pos+1 < len(p.in) && p.in[p.pos] == rune(s[0]) && p.in[p.pos+1] == rune(s[1]) {
		p.pos += 2
		return true
	}
	p.expect(desc)
	return false
}

// wordI matches an ASCII word case-insensitively ('or'i). It is only used
// inside named rules and look-aheads, so it records no expectation.
func (p *parser) wordI(w string) bool {
	if p.pos+len(w) > len(p.in) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lowerASCII(p.in[p.pos+i]) != rune(w[i]) {
			return false
		}
	}
	p.pos += len(w)
	return true
}

// Space "whitespace" <- [ \t\r\n\u00A0]
func (p *parser) space() bool {
	if p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
		return true
	}
	if p.track && !p.spaceSeen[p.pos] {
		p.spaceSeen[p.pos] = true
		p.expect(expWhitespace)
	}
	return false
}

// spaces is Space*.
func (p *parser) spaces() {
	for p.space() {
	}
}

// binaryKeyword is OR "OR" <- Space+ 'or'i Space+ (and AND likewise).
func (p *parser) binaryKeyword(desc, word string) bool {
	start := p.pos
	p.silent++
	ok := p.space()
	if ok {
		p.spaces()
		ok = p.wordI(word) && p.space()
		if ok {
			p.spaces()
		}
	}
	p.silent--
	if !ok {
		p.pos = start
		p.expect(desc)
	}
	return ok
}

// notKeyword is NOT "NOT" <- 'not'i Space+
func (p *parser) notKeyword() bool {
	start := p.pos
	p.silent++
	ok := p.wordI("not") && p.space()
	if ok {
		p.spaces()
	}
	p.silent--
	if !ok {
		p.pos = start
		p.expect(expNot)
	}
	return ok
}

// keywordAhead is the look-ahead that ends unquoted text:
// Keyword <- Space 'or'i Space / Space 'and'i Space / 'not'i Space
// Exactly one whitespace character on each side; it consumes nothing.
func (p *parser) keywordAhead() bool {
	start := p.pos
	p.silent++
	ok := p.space() && p.wordI("or") && p.space()
	p.pos = start
	if !ok {
		ok = p.space() && p.wordI("and") && p.space()
		p.pos = start
	}
	if !ok {
		ok = p.wordI("not") && p.space()
		p.pos = start
	}
	p.silent--
	return ok
}

// unicodeEscape decodes "\uXXXX" at p.pos (a backslash) into one UTF-16 unit.
func (p *parser) unicodeEscape() (rune, bool) {
	if p.pos+5 >= len(p.in) || p.in[p.pos+1] != 'u' {
		return 0, false
	}
	var v rune
	for _, h := range p.in[p.pos+2 : p.pos+6] {
		if !isHex(h) {
			return 0, false
		}
		v = v<<4 | hexVal(h)
	}
	p.pos += 6
	return v, true
}

// QuotedString <- '"' QuotedCharacter* '"'
func (p *parser) quotedString() (Term, bool) {
	start := p.pos
	if !p.char('"', `"\""`) {
		return nil, false
	}
	p.buf = p.buf[:0]
	for p.quotedChar() {
	}
	if !p.char('"', `"\""`) {
		p.pos = start
		return nil, false
	}
	return &Literal{Value: decodeUnits(p.buf), Quoted: true}, true
}

// QuotedCharacter <- '\t' / '\r' / '\n' / '\uXXXX' / '\' [\\"] / [^"]
// (escapes written with a backslash); anything else, a lone backslash
// included, stays as it is.
func (p *parser) quotedChar() bool {
	if p.pos >= len(p.in) {
		return false
	}
	r := p.in[p.pos]
	if r == '\\' && p.pos+1 < len(p.in) {
		switch next := p.in[p.pos+1]; next {
		case 't', 'r', 'n':
			p.buf = append(p.buf, escapedWhitespace(next))
			p.pos += 2
			return true
		case 'u':
			if u, ok := p.unicodeEscape(); ok {
				p.buf = append(p.buf, u)
				return true
			}
		case '\\', '"':
			p.buf = append(p.buf, next)
			p.pos += 2
			return true
		}
	}
	if r == '"' {
		return false
	}
	p.buf = append(p.buf, r)
	p.pos++
	return true
}

func escapedWhitespace(r rune) rune {
	switch r {
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return '\n'
}

// UnquotedLiteral <- UnquotedCharacter+, then trimmed (JavaScript trim) and
// classified: null/true/false, wildcard pattern, or string.
func (p *parser) unquotedLiteral() (Term, bool) {
	start := p.pos
	p.buf = p.buf[:0]
	wildcard := false
	for {
		ok, isWildcard := p.unquotedChar()
		if !ok {
			break
		}
		wildcard = wildcard || isWildcard
	}
	if p.pos == start {
		return nil, false
	}
	s := jsTrim(decodeUnits(p.buf))
	switch {
	case s == "null":
		return &Literal{Value: nil}, true
	case s == "true":
		return &Literal{Value: true}, true
	case s == "false":
		return &Literal{Value: false}, true
	case wildcard:
		return &Wildcard{Parts: strings.Split(s, wildcardMark)}, true
	}
	return &Literal{Value: s}, true
}

// UnquotedCharacter <- '\t' / '\r' / '\n' / '\' Special / '\uXXXX'
//
//	/ '\' ('or'i / 'and'i / 'not'i) / '*' / !Special !Keyword ANY
//
// It appends the decoded character(s) to p.buf.
func (p *parser) unquotedChar() (ok, isWildcard bool) {
	if p.pos >= len(p.in) {
		if p.track {
			p.keywordAhead() // the grammar evaluates it here too (see spaceSeen)
		}
		return false, false
	}
	r := p.in[p.pos]
	if r == '\\' && p.pos+1 < len(p.in) {
		next := p.in[p.pos+1]
		switch {
		case next == 't' || next == 'r' || next == 'n':
			p.buf = append(p.buf, escapedWhitespace(next))
			p.pos += 2
			return true, false
		case isSpecial(next):
			p.buf = append(p.buf, next)
			p.pos += 2
			return true, false
		}
		if u, ok := p.unicodeEscape(); ok {
			p.buf = append(p.buf, u)
			return true, false
		}
		p.pos++
		word := p.pos
		if p.wordI("or") || p.wordI("and") || p.wordI("not") {
			p.buf = append(p.buf, p.in[word:p.pos]...) // as typed, e.g. "OR"
			return true, false
		}
		p.pos--
	}
	if r == '*' {
		p.buf = append(p.buf, wildcardMarkRunes...)
		p.pos++
		return true, true
	}
	if isSpecial(r) || p.keywordAhead() {
		return false, false
	}
	p.buf = append(p.buf, r)
	p.pos++
	return true, false
}
