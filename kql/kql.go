// Package kql parses Kibana Query Language (KQL, "kuery") and translates it to
// Elasticsearch query DSL exactly as Kibana does (kbn-es-query), in both of
// Kibana's modes: untyped (no field information) and typed (field specs from
// _field_caps, as the detection engine passes them since 8.9).
//
// The parser is a hand-written recursive descent mirroring Kibana's PEG
// grammar, including its whitespace rules, keyword look-ahead, escapes and
// error messages. docs/semantics.md describes the two modes; the tests replay
// Kibana's own outputs (testdata/).
package kql

import "errors"

// Options select and tune the translation. The zero value is Kibana's
// untyped translation with its buildEsQuery defaults, except that leading
// wildcards are allowed (as in the detection engine); DetectionEngine returns
// the detection engine's settings.
type Options struct {
	// Fields are the field specs of the data view. nil means untyped mode;
	// an empty non-nil slice is typed mode with no known fields, which
	// produces the same DSL as untyped mode.
	Fields []FieldSpec
	// DateFormatTZ is added as time_zone to range queries on date fields
	// (typed mode), except for digits-only (epoch) values. The detection
	// engine sends "Zulu". "Browser" (Kibana's guess of the local zone) is
	// taken as "UTC". Empty means no time_zone.
	DateFormatTZ string
	// CaseInsensitive, when set, adds case_insensitive to term and wildcard
	// queries on keyword fields. The detection engine leaves it unset.
	CaseInsensitive *bool
	// NestedIgnoreUnmapped, when set, adds ignore_unmapped to nested queries.
	NestedIgnoreUnmapped *bool
	// FiltersInMustClause puts the children of "and" into bool.must instead
	// of bool.filter.
	FiltersInMustClause bool
	// DisallowLeadingWildcards makes BuildEsQuery reject values such as
	// "*foo", like Kibana with query:allowLeadingWildcards off.
	DisallowLeadingWildcards bool
}

// DetectionEngine returns the options Kibana's security detection engine
// uses for a rule's KQL: dateFormatTZ "Zulu", leading wildcards allowed, and
// the given field specs (nil for untyped, as in Kibana 8.8 and older).
func DetectionEngine(fields []FieldSpec) Options {
	return Options{Fields: fields, DateFormatTZ: "Zulu"}
}

// ParseOptions tune the parser.
type ParseOptions struct {
	// DisallowLeadingWildcards rejects values that start with "*" (other
	// than a lone "*") with Kibana's "Leading wildcards are disabled" error.
	DisallowLeadingWildcards bool
}

// Parse parses a KQL query with leading wildcards allowed. Syntax errors are
// *SyntaxError.
func Parse(query string) (Node, error) { return ParseWith(query, ParseOptions{}) }

// ParseWith parses a KQL query with the given options.
func ParseWith(query string, o ParseOptions) (Node, error) {
	in := []rune(query)
	p := &parser{in: in, allowLeading: !o.DisallowLeadingWildcards}
	n, err := p.run()
	if !errors.Is(err, errRetry) {
		return n, err
	}
	// Parse again, recording what was expected where, for the message.
	p = &parser{in: in, allowLeading: !o.DisallowLeadingWildcards, track: true, spaceSeen: make([]bool, len(in)+1)}
	_, err = p.run()
	return nil, err
}

// ToDSL translates a parsed query to one query DSL clause (Kibana's
// toElasticsearchQuery). Typed mode may fail with *NestedFieldError.
func ToDSL(n Node, o Options) (map[string]any, error) {
	return newTranslator(o).toDSL(n, nil)
}

// BuildEsQuery parses and translates query and wraps the clause as Kibana's
// buildEsQuery does: {"bool":{"must":[],"filter":[clause],"should":[],"must_not":[]}},
// with a top-level match_all dropped.
func BuildEsQuery(query string, o Options) (map[string]any, error) {
	n, err := ParseWith(query, ParseOptions{DisallowLeadingWildcards: o.DisallowLeadingWildcards})
	if err != nil {
		return nil, err
	}
	clause, err := ToDSL(n, o)
	if err != nil {
		return nil, err
	}
	must, filter := []any{}, []any{}
	if !isMatchAll(clause) {
		if o.FiltersInMustClause {
			must = append(must, clause)
		} else {
			filter = append(filter, clause)
		}
	}
	return map[string]any{"bool": map[string]any{
		"must": must, "filter": filter, "should": []any{}, "must_not": []any{},
	}}, nil
}

func isMatchAll(clause map[string]any) bool {
	if len(clause) != 1 {
		return false
	}
	m, ok := clause["match_all"].(map[string]any)
	return ok && len(m) == 0
}

// FieldNames lists the field names (possibly with wildcards) a query refers
// to, in order and without duplicates, for asking _field_caps. Like Kibana's
// getKqlFieldNames it gives only the path of a nested group, not the fields
// inside it, and nothing for unfielded terms.
func FieldNames(n Node) []string {
	var names []string
	seen := map[string]bool{}
	add := func(t Term) {
		if l, ok := t.(*Literal); ok && l.Value == nil {
			return
		}
		name := jsString(termValue(t))
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *AndNode:
			for _, c := range n.Children {
				walk(c)
			}
		case *OrNode:
			for _, c := range n.Children {
				walk(c)
			}
		case *NotNode:
			walk(n.Child)
		case *IsNode:
			add(n.Field)
		case *RangeNode:
			add(n.Field)
		case *NestedNode:
			add(n.Path)
		}
	}
	walk(n)
	return names
}
