package kql

import (
	"strings"
	"unicode/utf16"
)

// wildcardMark stands for an unescaped "*" while an unquoted literal is being
// assembled, exactly like Kibana's in-band marker (so a user typing the marker
// text gets Kibana's behaviour too).
const wildcardMark = "@kuery-wildcard@"

// isSpace is the grammar's whitespace: the only characters that separate
// keywords from their operands.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0'
}

// isSpecial reports the characters an unquoted literal may contain only when
// escaped with a backslash.
func isSpecial(r rune) bool {
	switch r {
	case '\\', '(', ')', ':', '<', '>', '"', '*', '{', '}':
		return true
	}
	return false
}

func isHex(r rune) bool {
	return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
}

func hexVal(r rune) rune {
	switch {
	case r <= '9':
		return r - '0'
	case r >= 'a':
		return r - 'a' + 10
	}
	return r - 'A' + 10
}

// lowerASCII folds ASCII letters only; JavaScript's toLowerCase maps no other
// character onto the letters of or/and/not.
func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// isJSTrimSpace is the set String.prototype.trim removes (WhiteSpace and
// LineTerminator of ECMAScript), which differs from unicode.IsSpace.
func isJSTrimSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029',
		'\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return '\u2000' <= r && r <= '\u200a'
}

// jsTrim is JavaScript's String.prototype.trim.
func jsTrim(s string) string { return strings.TrimFunc(s, isJSTrimSpace) }

// decodeUnits turns decoded characters into a Go string. \uXXXX escapes yield
// UTF-16 code units; a high and a low surrogate in a row form one character,
// as they do in a JavaScript string, and a lone surrogate becomes U+FFFD.
func decodeUnits(rs []rune) string {
	hasSurrogate := false
	for _, r := range rs {
		if utf16.IsSurrogate(r) {
			hasSurrogate = true
			break
		}
	}
	if !hasSurrogate {
		return string(rs)
	}
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if utf16.IsSurrogate(r) && i+1 < len(rs) {
			if c := utf16.DecodeRune(r, rs[i+1]); c != '\ufffd' {
				out = append(out, c)
				i++
				continue
			}
		}
		if utf16.IsSurrogate(r) {
			r = '\ufffd'
		}
		out = append(out, r)
	}
	return string(out)
}
