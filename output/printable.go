package output

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable makes s safe to print on a terminal: control characters (C0,
// DEL, C1: the escape sequences that move the cursor, recolour or retitle a
// terminal) and the bidirectional formatting characters that reorder text
// are written as Go escapes (\x1b, \u202e), invalid UTF-8 as \xff; so are
// tabs and line breaks, which would break the columns of a table. Alert
// fields and rule names come from source data and rule files, which an
// attacker may write.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports control and bidirectional formatting characters.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// cell makes s fit a table cell: one line, at most n characters, "-" when empty.
func cell(s string, n int) string {
	s = Printable(strings.Join(strings.Fields(s), " "))
	if s == "" {
		return "-"
	}
	return ellipsize(s, n)
}

// ellipsize shortens s to at most n characters, ending with "…" when cut.
func ellipsize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// oneLine keeps an error message on its row, "-" when empty, with no
// control characters (Printable).
func oneLine(s string) string {
	if s == "" {
		return "-"
	}
	return Printable(strings.Join(strings.Fields(s), " "))
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
