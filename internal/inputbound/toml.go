// Package inputbound bounds untrusted input files before they are decoded:
// their size, and the nesting depth of TOML documents.
//
// The TOML decoder esrule uses needs memory quadratic in the nesting depth
// (a 32 KB file of nested inline tables takes gigabytes) and several hundred
// bytes per key, table or array, so every TOML file (rule files, the config
// file, the actions file) is checked with CheckTOML before it is decoded.
package inputbound

import (
	"fmt"
	"strings"
)

// TOMLLimits bound a TOML document before it is decoded.
type TOMLLimits struct {
	// MaxDepth is the deepest nesting accepted (see MaxTOMLDepth).
	MaxDepth int
	// MaxItems bounds the keys (each component of a dotted key counts),
	// table headers, inline tables and arrays.
	MaxItems int
}

// DefaultTOMLLimits are the limits of every TOML file esrule reads: with
// them, no file of 1 MiB makes the decoder use more than a few tens of MB.
var DefaultTOMLLimits = TOMLLimits{MaxDepth: MaxTOMLDepth, MaxItems: MaxTOMLItems}

// MaxTOMLItems is the most keys, table headers, inline tables and arrays
// esrule accepts in a TOML file; a detection rule has about a hundred.
const MaxTOMLItems = 20000

// MaxTOMLDepth is the deepest nesting esrule accepts in a TOML file. Depth
// counts table header components (plus one for an array of tables), dotted
// key components, inline tables and arrays: in [rule.threat] the key
// tactic.id = "x" is at depth 4. The shipped detection rules reach 8
// ([[rule.threat.technique.subtechnique]] and its keys).
const MaxTOMLDepth = 24

// LimitError says where a TOML document exceeds its limits.
type LimitError struct {
	Line   int    // 1-based
	Reason string // what is exceeded, e.g. "nested deeper than 24 levels (...)"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("line %d: TOML %s: refused before decoding", e.Line, e.Reason)
}

// CheckTOML returns a *LimitError if src nests deeper than lim.MaxDepth
// anywhere or holds more than lim.MaxItems keys, tables and arrays. It scans
// the document once, skipping strings and comments, and never decodes it;
// its memory use is small and linear in the number of [[array]] headers. A
// document that is not valid TOML may pass: the decoder reports that.
func CheckTOML(src []byte, lim TOMLLimits) error {
	s := depthScanner{src: src, line: 1, lim: lim, keyMode: true, keyParts: 1, lineStart: true}
	return s.scan()
}

// depthScanner is the state of TOMLDepth.
type depthScanner struct {
	src   []byte
	i     int
	line  int
	lim   TOMLLimits
	items int

	tableDepth int             // components of the current [table] header
	stack      []frame         // the open inline tables and arrays, innermost last
	arrays     map[string]bool // the [[array of tables]] paths met so far
	keyMode    bool            // reading a key (before '='), else a value
	keyParts   int             // components of the key read so far
	lineStart  bool            // only blanks since the last newline (top level)
	valueDepth int             // depth of the value being read
}

// frame is an open inline table or array and its depth.
type frame struct {
	depth       int
	inlineTable bool
}

// check counts one more item at depth.
func (s *depthScanner) check(depth int) error {
	if depth > s.lim.MaxDepth {
		return &LimitError{Line: s.line, Reason: fmt.Sprintf(
			"nested deeper than %d levels (tables, dotted keys, inline tables and arrays)", s.lim.MaxDepth)}
	}
	s.items++
	if s.items > s.lim.MaxItems {
		return &LimitError{Line: s.line, Reason: fmt.Sprintf(
			"has more than %d keys, tables and arrays", s.lim.MaxItems)}
	}
	return nil
}

// containerDepth is the depth keys are counted from: the current table, or
// the innermost open inline table or array.
func (s *depthScanner) containerDepth() int {
	if len(s.stack) == 0 {
		return s.tableDepth
	}
	return s.stack[len(s.stack)-1].depth
}

func (s *depthScanner) scan() error {
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch c {
		case '\n':
			s.line++
			s.i++
			if len(s.stack) == 0 {
				s.keyMode, s.keyParts, s.lineStart = true, 1, true
			}
			continue
		case ' ', '\t', '\r':
			s.i++
			continue
		case '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
			continue
		case '"', '\'':
			s.skipString()
			s.lineStart = false
			continue
		}
		if len(s.stack) == 0 && s.lineStart && c == '[' {
			if err := s.header(); err != nil {
				return err
			}
			continue
		}
		s.lineStart = false
		s.i++
		if s.keyMode {
			switch c {
			case '.':
				s.keyParts++
			case '=':
				s.keyMode = false
				s.valueDepth = s.containerDepth() + max(s.keyParts, 1)
				s.items += max(s.keyParts, 1) - 1 // each dotted component is a table
				if err := s.check(s.valueDepth); err != nil {
					return err
				}
			case '}': // an empty inline table
				s.pop()
			}
			continue
		}
		switch c {
		case '[', '{':
			s.stack = append(s.stack, frame{depth: s.valueDepth, inlineTable: c == '{'})
			if c == '{' {
				s.keyMode, s.keyParts = true, 1
				if err := s.check(s.valueDepth); err != nil {
					return err
				}
			} else {
				s.valueDepth++
				if err := s.check(s.valueDepth); err != nil {
					return err
				}
			}
		case ']', '}':
			s.pop()
		case ',':
			if len(s.stack) > 0 {
				top := s.stack[len(s.stack)-1]
				if top.inlineTable {
					s.keyMode, s.keyParts = true, 1
				} else {
					s.valueDepth = top.depth + 1
				}
			}
		}
	}
	return nil
}

func (s *depthScanner) pop() {
	if len(s.stack) == 0 {
		return
	}
	s.stack = s.stack[:len(s.stack)-1]
	s.keyMode = false
	if len(s.stack) > 0 {
		s.valueDepth = s.stack[len(s.stack)-1].depth
	}
}

// header reads a [table] or [[array of tables]] header and sets tableDepth
// to its number of components, plus one for each array of tables on its
// path (in [[a]] [a.b], b is inside the last element of the array a).
func (s *depthScanner) header() error {
	s.i++ // '['
	array := false
	if s.i < len(s.src) && s.src[s.i] == '[' {
		s.i++
		array = true
	}
	var parts []string
	start := s.i
	for s.i < len(s.src) && s.src[s.i] != ']' && s.src[s.i] != '\n' {
		switch s.src[s.i] {
		case '"', '\'':
			s.skipString()
			continue
		case '.':
			parts = append(parts, keyPart(s.src[start:s.i]))
			start = s.i + 1
			if len(parts) > s.lim.MaxDepth { // stop before the joins below grow
				return s.check(len(parts) + 1)
			}
		}
		s.i++
	}
	parts = append(parts, keyPart(s.src[start:s.i]))
	if s.i < len(s.src) && s.src[s.i] == ']' {
		s.i++
	}
	depth := len(parts)
	for n := 1; n < len(parts); n++ {
		if s.arrays[strings.Join(parts[:n], ".")] {
			depth++
		}
	}
	if full := strings.Join(parts, "."); array || s.arrays[full] {
		if s.arrays == nil {
			s.arrays = map[string]bool{}
		}
		s.arrays[full] = array || s.arrays[full]
		depth++
	}
	s.tableDepth = depth
	s.lineStart = false
	s.keyMode, s.keyParts = true, 1
	return s.check(depth)
}

// keyPart is one component of a dotted key without blanks and quotes.
func keyPart(b []byte) string {
	return strings.Trim(strings.TrimSpace(string(b)), `"'`)
}

// skipString moves past a basic, literal or multi-line string starting at i.
func (s *depthScanner) skipString() {
	q := s.src[s.i]
	if s.i+2 < len(s.src) && s.src[s.i+1] == q && s.src[s.i+2] == q {
		s.i += 3
		for s.i < len(s.src) {
			switch {
			case s.src[s.i] == '\\' && q == '"':
				s.i += 2
				continue
			case s.src[s.i] == '\n':
				s.line++
			case s.src[s.i] == q && s.i+2 < len(s.src) && s.src[s.i+1] == q && s.src[s.i+2] == q:
				s.i += 3
				for s.i < len(s.src) && s.src[s.i] == q { // up to two quotes may end the content
					s.i++
				}
				return
			}
			s.i++
		}
		return
	}
	s.i++
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			if q == '"' {
				s.i += 2
				continue
			}
		case q:
			s.i++
			return
		case '\n': // unterminated: the decoder reports it
			return
		}
		s.i++
	}
}

// ReadTOMLFile reads the config or actions file at path: at most
// MaxConfigFileSize bytes, within DefaultTOMLLimits, so that no content can
// make the TOML decoder exhaust memory.
func ReadTOMLFile(path string) ([]byte, error) {
	data, err := ReadFile(path, MaxConfigFileSize)
	if err != nil {
		return nil, err
	}
	if err := CheckTOML(data, DefaultTOMLLimits); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
