package kql

import "fmt"

type translator struct {
	o      Options
	byName map[string]int // built on first use for large field lists
}

func newTranslator(o Options) *translator { return &translator{o: o} }

func (t *translator) toDSL(n Node, ctx *nestedCtx) (map[string]any, error) {
	switch n := n.(type) {
	case *AndNode:
		clauses, err := t.all(n.Children, ctx)
		if err != nil {
			return nil, err
		}
		key := "filter"
		if t.o.FiltersInMustClause {
			key = "must"
		}
		return map[string]any{"bool": map[string]any{key: clauses}}, nil
	case *OrNode:
		clauses, err := t.all(n.Children, ctx)
		if err != nil {
			return nil, err
		}
		return should(clauses), nil
	case *NotNode:
		c, err := t.toDSL(n.Child, ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"bool": map[string]any{"must_not": c}}, nil
	case *NestedNode:
		return t.nested(n, ctx)
	case *IsNode:
		return t.is(n, ctx)
	case *RangeNode:
		return t.rangeQuery(n, ctx)
	}
	return nil, fmt.Errorf("translate KQL: unknown node %T", n)
}

func (t *translator) all(nodes []Node, ctx *nestedCtx) ([]any, error) {
	out := make([]any, len(nodes))
	for i, c := range nodes {
		q, err := t.toDSL(c, ctx)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

func should(clauses []any) map[string]any {
	return map[string]any{"bool": map[string]any{"should": clauses, "minimum_should_match": 1}}
}

func (t *translator) nested(n *NestedNode, ctx *nestedCtx) (map[string]any, error) {
	fullPath := termValue(n.Path)
	if ctx != nil && jsTruthy(ctx.path) {
		fullPath = jsString(ctx.path) + "." + jsString(fullPath)
	}
	child, err := t.toDSL(n.Child, &nestedCtx{path: fullPath})
	if err != nil {
		return nil, err
	}
	return t.nestedQuery(fullPath, child), nil
}

func (t *translator) nestedQuery(path any, q map[string]any) map[string]any {
	m := map[string]any{"path": path, "query": q, "score_mode": "none"}
	if t.o.NestedIgnoreUnmapped != nil {
		m["ignore_unmapped"] = *t.o.NestedIgnoreUnmapped
	}
	return map[string]any{"nested": m}
}

// wrapNested adds the automatic nested query for a field reached through a
// wildcard field name outside any nested group.
func (t *translator) wrapNested(q map[string]any, f *FieldSpec, full Term, ctx *nestedCtx) map[string]any {
	if _, isWildcard := full.(*Wildcard); !isWildcard || f.NestedPath == "" || ctx != nil {
		return q
	}
	return t.nestedQuery(f.NestedPath, q)
}

// is translates field:value (Kibana's is function).
func (t *translator) is(n *IsNode, ctx *nestedCtx) (map[string]any, error) {
	wildValue, valueIsWildcard := n.Value.(*Wildcard)
	isExists := valueIsWildcard && wildValue.IsLone()
	if wildField, ok := n.Field.(*Wildcard); ok && isExists && wildField.IsLone() {
		return map[string]any{"match_all": map[string]any{}}, nil
	}
	full, fields, err := t.resolve(n.Field, ctx)
	if err != nil {
		return nil, err
	}
	value := termValue(n.Value)
	quoted := false
	if l, ok := n.Value.(*Literal); ok {
		quoted = l.Quoted
	}
	if l, ok := full.(*Literal); ok && l.Value == nil {
		if valueIsWildcard {
			return map[string]any{"query_string": map[string]any{"query": wildValue.QueryString()}}, nil
		}
		typ := "best_fields"
		if quoted {
			typ = "phrase"
		}
		return map[string]any{"multi_match": map[string]any{"type": typ, "query": value, "lenient": true}}, nil
	}
	pseudo := len(fields) == 0
	if pseudo {
		fields = []*FieldSpec{{Name: jsString(termValue(full))}}
	}
	// nameValue is the field name where Kibana puts it as a JSON value: a
	// field written as true or false stays a boolean there.
	nameValue := func(f *FieldSpec) any {
		if pseudo {
			return termValue(full)
		}
		return f.Name
	}
	queries := make([]any, 0, len(fields))
	for _, f := range fields {
		var q map[string]any
		switch {
		case isExists:
			q = map[string]any{"exists": map[string]any{"field": nameValue(f)}}
		case valueIsWildcard && f.isKeyword():
			q = map[string]any{"wildcard": map[string]any{f.Name: t.withCase(map[string]any{"value": wildValue.QueryString()})}}
		case valueIsWildcard:
			q = map[string]any{"query_string": map[string]any{"fields": []any{nameValue(f)}, "query": wildValue.QueryString()}}
		case f.Type == "date":
			r := map[string]any{"gte": value, "lte": value}
			if tz, ok := t.timeZone(value); ok {
				r["time_zone"] = tz
			}
			q = map[string]any{"range": map[string]any{f.Name: r}}
		case f.isKeyword():
			q = map[string]any{"term": map[string]any{f.Name: t.withCase(map[string]any{"value": value})}}
		case quoted:
			q = map[string]any{"match_phrase": map[string]any{f.Name: value}}
		default:
			q = map[string]any{"match": map[string]any{f.Name: value}}
		}
		queries = append(queries, t.wrapNested(q, f, full, ctx))
	}
	return should(queries), nil
}

// rangeQuery translates field < value and the other comparisons.
func (t *translator) rangeQuery(n *RangeNode, ctx *nestedCtx) (map[string]any, error) {
	full, fields, err := t.resolve(n.Field, ctx)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		fields = []*FieldSpec{{Name: jsString(termValue(full))}}
	}
	value := termValue(n.Value)
	queries := make([]any, 0, len(fields))
	for _, f := range fields {
		params := map[string]any{string(n.Op): value}
		if f.Type == "date" {
			if tz, ok := t.timeZone(value); ok {
				params["time_zone"] = tz
			}
		}
		queries = append(queries, t.wrapNested(map[string]any{"range": map[string]any{f.Name: params}}, f, full, ctx))
	}
	return should(queries), nil
}

func (t *translator) withCase(m map[string]any) map[string]any {
	if t.o.CaseInsensitive != nil {
		m["case_insensitive"] = *t.o.CaseInsensitive
	}
	return m
}

// timeZone is the time_zone of a date query: none without DateFormatTZ and
// none for digits-only (epoch) values, which are absolute.
func (t *translator) timeZone(value any) (string, bool) {
	if t.o.DateFormatTZ == "" {
		return "", false
	}
	if s, ok := value.(string); ok && isDigits(s) {
		return "", false
	}
	if t.o.DateFormatTZ == "Browser" {
		return "UTC", true
	}
	return t.o.DateFormatTZ, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
