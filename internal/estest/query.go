package estest

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// evaluator evaluates one request against typed documents.
type evaluator struct {
	types   map[string]string // field → family
	esTypes map[string]string
}

// family returns the type family of field ("" when unmapped).
func (e *evaluator) family(field string) string { return e.types[field] }

// param converts a request value to field's family; a value that does not
// fit is a 400, as in Elasticsearch. ok is false for unmapped fields.
func (e *evaluator) param(field string, v any) (value, bool) {
	fam := e.family(field)
	if fam == "" {
		return value{}, false // unmapped: matches nothing
	}
	tv, err := parseValue(fam, v)
	if err != nil {
		panic(&requestError{status: 400, kind: "query_shard_exception", reason: "failed to create query: " + err.Error()})
	}
	return tv, true
}

// matcher tells whether a document matches a compiled query.
type matcher func(d *stored) bool

func matchAll(*stored) bool  { return true }
func matchNone(*stored) bool { return false }

// compile turns a query (nil: match_all) into a matcher; an unknown or
// invalid query is a 400.
func (e *evaluator) compile(q any) matcher {
	m := obj(q)
	if m == nil {
		if q != nil {
			panic(badRequest("query must be an object, got %T", q))
		}
		return matchAll
	}
	var parts []matcher
	for kind, body := range m {
		parts = append(parts, e.compileOne(kind, body))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return func(d *stored) bool {
		for _, p := range parts {
			if !p(d) {
				return false
			}
		}
		return true
	}
}

func (e *evaluator) compileOne(kind string, body any) matcher {
	switch kind {
	case "bool":
		return e.compileBool(obj(body))
	case "match_all":
		return matchAll
	case "match_none":
		return matchNone
	case "exists":
		field, _ := obj(body)["field"].(string)
		return func(d *stored) bool { return len(d.values[field]) > 0 }
	case "term", "match", "match_phrase":
		field, want := single(body, kind)
		if o := obj(want); o != nil {
			if want = o["value"]; kind != "term" {
				want = o["query"]
			}
		}
		return e.anyEqual(field, []any{want})
	case "terms":
		for field, want := range obj(body) {
			if field != "boost" {
				return e.anyEqual(field, arr(want))
			}
		}
		return matchNone
	case "range":
		field, spec := single(body, kind)
		return e.compileRange(field, obj(spec))
	case "wildcard", "prefix":
		field, spec := single(body, kind)
		pattern, insensitive := "", false
		if o := obj(spec); o != nil {
			pattern, _ = o["value"].(string)
			if pattern == "" {
				pattern, _ = o[kind].(string)
			}
			insensitive, _ = o["case_insensitive"].(bool)
		} else {
			pattern, _ = spec.(string)
		}
		if kind == "prefix" {
			pattern = escapeWildcard(pattern) + "*"
		}
		return wildcard(field, pattern, insensitive)
	case "query_string":
		return e.compileQueryString(obj(body))
	}
	panic(badRequest("unknown query [%s]", kind))
}

// single returns the one field of a single-field query ({"term": {f: v}}).
func single(body any, kind string) (string, any) {
	for k, v := range obj(body) {
		if k != "boost" && k != "_name" {
			return k, v
		}
	}
	panic(badRequest("[%s] query needs a field", kind))
}

func (e *evaluator) compileList(v any) []matcher {
	var out []matcher
	for _, c := range clauses(v) {
		out = append(out, e.compile(c))
	}
	return out
}

func (e *evaluator) compileBool(b map[string]any) matcher {
	must := append(e.compileList(b["filter"]), e.compileList(b["must"])...)
	mustNot := e.compileList(b["must_not"])
	should := e.compileList(b["should"])
	msm := 0
	switch n := b["minimum_should_match"].(type) {
	case json.Number:
		v, _ := n.Int64()
		msm = int(v)
	case string:
		v, err := strconv.Atoi(n)
		if err != nil {
			panic(badRequest("estest: minimum_should_match %q is not supported", n))
		}
		msm = v
	default:
		if len(should) > 0 && len(must) == 0 {
			msm = 1
		}
	}
	return func(d *stored) bool {
		for _, m := range must {
			if !m(d) {
				return false
			}
		}
		for _, m := range mustNot {
			if m(d) {
				return false
			}
		}
		if msm == 0 {
			return true
		}
		hits := 0
		for _, m := range should {
			if m(d) {
				if hits++; hits >= msm {
					return true
				}
			}
		}
		return false
	}
}

// anyEqual matches documents with a value of field equal to one of wants
// (an ip term may be a CIDR block).
func (e *evaluator) anyEqual(field string, wants []any) matcher {
	var vals []value
	var nets []netip.Prefix
	for _, w := range wants {
		if s, ok := w.(string); ok && e.family(field) == TypeIP && strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				panic(badRequest("invalid CIDR %q", s))
			}
			nets = append(nets, p)
			continue
		}
		if tv, ok := e.param(field, w); ok {
			vals = append(vals, tv)
		}
	}
	return func(d *stored) bool {
		for _, v := range d.values[field] {
			for _, w := range vals {
				if compare(v, w) == 0 {
					return true
				}
			}
			for _, p := range nets {
				if p.Contains(v.ip.Unmap()) || p.Contains(v.ip) {
					return true
				}
			}
		}
		return false
	}
}

// compileRange: some value of the field lies within every given bound
// (gte and lte inclusive, gt and lt exclusive).
func (e *evaluator) compileRange(field string, spec map[string]any) matcher {
	type bound struct {
		v  value
		op string
	}
	var bounds []bound
	for _, op := range [...]string{"gte", "gt", "lte", "lt"} {
		raw, ok := spec[op]
		if !ok || raw == nil {
			continue
		}
		tv, ok := e.param(field, raw)
		if !ok {
			return matchNone
		}
		bounds = append(bounds, bound{v: tv, op: op})
	}
	return func(d *stored) bool {
		for _, v := range d.values[field] {
			ok := true
			for _, b := range bounds {
				c := compare(v, b.v)
				if b.op == "gte" && c < 0 || b.op == "gt" && c <= 0 || b.op == "lte" && c > 0 || b.op == "lt" && c >= 0 {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
}

// wildcard matches keyword values against a pattern with * and ?
// (backslash escapes the next character).
func wildcard(field, pattern string, insensitive bool) matcher {
	var re strings.Builder
	re.WriteString("^")
	if insensitive {
		re.WriteString("(?i)")
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			re.WriteString("(?s:.*)")
		case '?':
			re.WriteString("(?s:.)")
		case '\\':
			if i+1 < len(pattern) {
				i++
				re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		default:
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	re.WriteString("$")
	rx := regexp.MustCompile(re.String())
	return func(d *stored) bool {
		for _, v := range d.values[field] {
			if v.kind == TypeKeyword && rx.MatchString(v.s) {
				return true
			}
		}
		return false
	}
}

func escapeWildcard(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// compileQueryString supports one term on explicit fields, possibly with
// wildcards (what KQL's untyped translation sends for value*); anything
// else is refused rather than guessed.
func (e *evaluator) compileQueryString(qs map[string]any) matcher {
	q, _ := qs["query"].(string)
	fields := arr(qs["fields"])
	if len(fields) == 0 || q == "" || strings.ContainsAny(strings.ReplaceAll(q, `\ `, ""), " ()\"") {
		panic(badRequest("estest: query_string %q over %v is not supported", q, fields))
	}
	insensitive, _ := qs["case_insensitive"].(bool)
	var alts []matcher
	for _, f := range fields {
		field, _ := f.(string)
		if strings.ContainsAny(q, "*?") {
			alts = append(alts, wildcard(field, q, insensitive))
			continue
		}
		unescaped := strings.NewReplacer(`\\`, `\`, `\:`, `:`, `\-`, `-`, `\ `, ` `, `\/`, `/`).Replace(q)
		alts = append(alts, e.anyEqual(field, []any{unescaped}))
	}
	return func(d *stored) bool {
		for _, m := range alts {
			if m(d) {
				return true
			}
		}
		return false
	}
}
