package estest

import (
	"encoding/json"
	"strings"
)

// FilterPath cuts a decoded JSON response to the given filter_path
// expressions as Elasticsearch does: dotted paths where * matches any one
// key (or part of one) and ** any number of keys; arrays are traversed, so
// a path applies to each element; objects and arrays left empty are
// dropped; a leading "-" excludes instead. v is a tree of map[string]any,
// []any and scalars (json.RawMessage leaves are decoded first).
func FilterPath(v map[string]any, paths []string) map[string]any {
	var incl, excl [][]string
	for _, p := range paths {
		for _, one := range strings.Split(p, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(one, "-"); ok {
				excl = append(excl, strings.Split(rest, "."))
			} else {
				incl = append(incl, strings.Split(one, "."))
			}
		}
	}
	out := any(normalize(v))
	if len(incl) > 0 {
		out = include(out, incl)
	}
	if len(excl) > 0 && out != nil {
		out = exclude(out, excl)
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// normalize decodes raw JSON leaves so that filters can walk them.
func normalize(v any) any {
	switch x := v.(type) {
	case json.RawMessage:
		var d any
		if err := json.Unmarshal(x, &d); err != nil {
			return x
		}
		return normalize(d)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = normalize(c)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, c := range x {
			a[i] = normalize(c)
		}
		return a
	}
	return v
}

// keyMatches matches one key against one filter segment (with * wildcards).
func keyMatches(seg, key string) bool {
	if seg == "*" || seg == "**" {
		return true
	}
	if !strings.Contains(seg, "*") {
		return seg == key
	}
	return matchGlob(seg, key)
}

// include keeps what some path selects; nil when nothing remains.
func include(v any, paths [][]string) any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			if kept := include(e, paths); kept != nil {
				out = append(out, kept)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			var rest [][]string
			whole := false
			for _, p := range paths {
				switch {
				case p[0] == "**":
					rest = append(rest, p) // ** may match more keys
					if len(p) == 1 {
						whole = true
					} else if keyMatches(p[1], k) {
						if len(p) == 2 {
							whole = true
						} else {
							rest = append(rest, p[2:])
						}
					}
				case keyMatches(p[0], k):
					if len(p) == 1 {
						whole = true
					} else {
						rest = append(rest, p[1:])
					}
				}
			}
			if whole {
				if !empty(c) {
					out[k] = c
				}
				continue
			}
			if len(rest) > 0 {
				if kept := include(c, rest); kept != nil {
					out[k] = kept
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil // a scalar below the end of every path
}

// exclude drops what some path selects.
func exclude(v any, paths [][]string) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if kept := exclude(e, paths); kept != nil {
				out = append(out, kept)
			}
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			var rest [][]string
			drop := false
			for _, p := range paths {
				if keyMatches(p[0], k) {
					if len(p) == 1 {
						drop = true
					} else {
						rest = append(rest, p[1:])
					}
				}
			}
			switch {
			case drop:
			case len(rest) > 0:
				out[k] = exclude(c, rest)
			default:
				out[k] = c
			}
		}
		return out
	}
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
