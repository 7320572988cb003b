package estest

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
)

// evaluator evaluates one request against typed documents.
type evaluator struct {
	types   map[string]string // field → family
	esTypes map[string]string
	regexps map[string]*regexp.Regexp
	params  map[paramKey]value
}

// paramKey identifies a converted request value.
type paramKey struct {
	fam string
	raw any
}

// regexp compiles expr once per request.
func (e *evaluator) regexp(expr string) *regexp.Regexp {
	if rx, ok := e.regexps[expr]; ok {
		return rx
	}
	if e.regexps == nil {
		e.regexps = map[string]*regexp.Regexp{}
	}
	rx := regexp.MustCompile(expr)
	e.regexps[expr] = rx
	return rx
}

// family returns the type family of field ("" when unmapped).
func (e *evaluator) family(field string) string { return e.types[field] }

// param converts a request value to field's family; a value that does not
// fit is a 400, as in Elasticsearch.
func (e *evaluator) param(field string, v any) (value, bool) {
	fam := e.family(field)
	if fam == "" {
		return value{}, false // unmapped: matches nothing
	}
	k := paramKey{fam, v}
	switch v.(type) {
	case string, json.Number, bool:
		if tv, ok := e.params[k]; ok {
			return tv, true
		}
	default:
		k.fam = ""
	}
	tv, err := parseValue(fam, v)
	if err != nil {
		panic(&requestError{status: 400, kind: "query_shard_exception", reason: "failed to create query: " + err.Error()})
	}
	if k.fam != "" {
		if e.params == nil {
			e.params = map[paramKey]value{}
		}
		e.params[k] = tv
	}
	return tv, true
}

// match reports whether document d matches query q (nil matches all).
func (e *evaluator) match(q any, d *stored) bool {
	m := obj(q)
	if m == nil {
		if q != nil {
			panic(badRequest("query must be an object, got %T", q))
		}
		return true
	}
	for kind, body := range m {
		if !e.matchOne(kind, body, d) {
			return false
		}
	}
	return true
}

func (e *evaluator) matchOne(kind string, body any, d *stored) bool {
	switch kind {
	case "bool":
		return e.matchBool(obj(body), d)
	case "match_all":
		return true
	case "match_none":
		return false
	case "exists":
		field, _ := obj(body)["field"].(string)
		return len(d.values[field]) > 0
	case "term", "match", "match_phrase":
		field, want := single(body, kind)
		if o := obj(want); o != nil {
			if want = o["value"]; kind != "term" {
				want = o["query"]
			}
		}
		return e.anyEqual(field, []any{want}, d)
	case "terms":
		for field, want := range obj(body) {
			if field == "boost" {
				continue
			}
			return e.anyEqual(field, arr(want), d)
		}
		return false
	case "range":
		field, spec := single(body, kind)
		return e.matchRange(field, obj(spec), d)
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
		return e.matchWildcard(field, pattern, insensitive, d)
	case "query_string":
		return e.matchQueryString(obj(body), d)
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

func (e *evaluator) matchBool(b map[string]any, d *stored) bool {
	for _, key := range []string{"filter", "must"} {
		for _, c := range clauses(b[key]) {
			if !e.match(c, d) {
				return false
			}
		}
	}
	for _, c := range clauses(b["must_not"]) {
		if e.match(c, d) {
			return false
		}
	}
	should := clauses(b["should"])
	msm := 0
	switch n := b["minimum_should_match"].(type) {
	case json.Number:
		v, _ := n.Int64()
		msm = int(v)
	case string:
		if n != "" && !strings.HasSuffix(n, "%") {
			var v json.Number = json.Number(n)
			i, _ := v.Int64()
			msm = int(i)
		}
	default:
		if len(should) > 0 && len(clauses(b["filter"]))+len(clauses(b["must"])) == 0 {
			msm = 1
		}
	}
	hits := 0
	for _, c := range should {
		if e.match(c, d) {
			hits++
		}
	}
	return hits >= msm
}

// anyEqual reports whether one of d's values of field equals one of wants
// (an ip term may be a CIDR block).
func (e *evaluator) anyEqual(field string, wants []any, d *stored) bool {
	have := d.values[field]
	if len(have) == 0 {
		return false
	}
	for _, w := range wants {
		if e.family(field) == TypeIP {
			if s, ok := w.(string); ok && strings.Contains(s, "/") {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					panic(badRequest("invalid CIDR %q", s))
				}
				for _, v := range have {
					if p.Contains(v.ip.Unmap()) || p.Contains(v.ip) {
						return true
					}
				}
				continue
			}
		}
		tv, ok := e.param(field, w)
		if !ok {
			return false
		}
		for _, v := range have {
			if compare(v, tv) == 0 {
				return true
			}
		}
	}
	return false
}

// matchRange: some value of the field lies within every given bound
// (gte/lte inclusive, gt/lt exclusive).
func (e *evaluator) matchRange(field string, spec map[string]any, d *stored) bool {
	type bound struct {
		v  value
		op string
	}
	var bounds [4]bound
	n := 0
	for _, op := range [...]string{"gte", "gt", "lte", "lt"} {
		raw, ok := spec[op]
		if !ok || raw == nil {
			continue
		}
		tv, ok := e.param(field, raw)
		if !ok {
			return false
		}
		bounds[n] = bound{v: tv, op: op}
		n++
	}
	for _, v := range d.values[field] {
		ok := true
		for _, b := range bounds[:n] {
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

// matchWildcard matches keyword values against a pattern with * and ?
// (backslash escapes the next character).
func (e *evaluator) matchWildcard(field, pattern string, insensitive bool, d *stored) bool {
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
	rx := e.regexp(re.String())
	for _, v := range d.values[field] {
		if v.kind == TypeKeyword && rx.MatchString(v.s) {
			return true
		}
	}
	return false
}

func escapeWildcard(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// matchQueryString supports one term on explicit fields, possibly with
// wildcards (what KQL's untyped translation sends for value*); anything
// else is refused rather than guessed.
func (e *evaluator) matchQueryString(qs map[string]any, d *stored) bool {
	q, _ := qs["query"].(string)
	fields := arr(qs["fields"])
	if len(fields) == 0 || q == "" || strings.ContainsAny(strings.ReplaceAll(q, `\ `, ""), " ()\"") {
		panic(badRequest("estest: query_string %q over %v is not supported", q, fields))
	}
	insensitive, _ := qs["case_insensitive"].(bool)
	for _, f := range fields {
		field, _ := f.(string)
		if strings.ContainsAny(q, "*?") {
			if e.matchWildcard(field, q, insensitive, d) {
				return true
			}
			continue
		}
		unescaped := strings.NewReplacer(`\\`, `\`, `\:`, `:`, `\-`, `-`, `\ `, ` `, `\/`, `/`).Replace(q)
		if e.anyEqual(field, []any{unescaped}, d) {
			return true
		}
	}
	return false
}
