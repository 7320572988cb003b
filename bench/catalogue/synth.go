package main

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/esrule/esrule/kql"
	"github.com/esrule/esrule/rule"
)

// synth builds one source document that the positive part of a rule's query
// and filters asks for: the first branch of every "or", every clause of
// every "and", nothing for "not" and nested groups. It is a heuristic for
// exercising all phases; a rule whose document still does not match simply
// reports zero alerts.
type synth struct {
	types map[string]string // ECS field types
	doc   map[string]any
}

func newSynth(types map[string]string) *synth { return &synth{types: types, doc: map[string]any{}} }

// multiFieldSuffixes are sub-fields the integrations add to keyword fields.
var multiFieldSuffixes = []string{".caseless", ".text", ".keyword"}

// sourceField is where a value for field goes in _source: the parent of a
// multi-field (process.name for process.name.caseless).
func (s *synth) sourceField(field string) string {
	for _, suffix := range multiFieldSuffixes {
		if strings.HasSuffix(field, suffix) {
			return strings.TrimSuffix(field, suffix)
		}
	}
	for i := strings.LastIndexByte(field, '.'); i > 0; i = strings.LastIndexByte(field[:i], '.') {
		if t, ok := s.types[field[:i]]; ok && t != "object" && t != "nested" {
			return field[:i]
		}
	}
	return field
}

func (s *synth) set(field string, v any) {
	field = s.sourceField(field)
	if old, ok := s.doc[field]; ok {
		if list, isList := old.([]any); isList {
			s.doc[field] = append(list, v)
		} else if old != v {
			s.doc[field] = []any{old, v}
		}
		return
	}
	s.doc[field] = v
}

func (s *synth) node(n kql.Node) {
	switch x := n.(type) {
	case *kql.AndNode:
		for _, c := range x.Children {
			s.node(c)
		}
	case *kql.OrNode:
		for _, c := range x.Children {
			if _, neg := c.(*kql.NotNode); !neg {
				s.node(c)
				return
			}
		}
	case *kql.IsNode:
		field, ok := literalString(x.Field)
		if !ok || strings.Contains(field, "*") {
			return
		}
		switch v := x.Value.(type) {
		case *kql.Literal:
			if v.Value == nil {
				return
			}
			s.set(field, s.typed(field, toString(v.Value)))
		case *kql.Wildcard:
			if v.IsLone() {
				s.set(field, s.sample(field))
				return
			}
			s.set(field, s.typed(field, strings.Join(v.Parts, "")))
		}
	case *kql.RangeNode:
		field, ok := literalString(x.Field)
		val, vok := literalString(x.Value)
		if !ok || !vok {
			return
		}
		s.set(field, s.ranged(field, val, x.Op))
	}
}

// filters adds what the rule's enabled, non-negated filters ask for.
func (s *synth) filters(r *rule.Rule) {
	for _, raw := range r.Filters {
		var f struct {
			Meta struct {
				Negate, Disabled bool
			} `json:"meta"`
			Query map[string]map[string]json.RawMessage `json:"query"`
		}
		if json.Unmarshal(raw, &f) != nil || f.Meta.Negate || f.Meta.Disabled {
			continue
		}
		for kind, body := range f.Query {
			for field, v := range body {
				var value string
				var params struct {
					Value string `json:"value"`
					Query string `json:"query"`
				}
				if json.Unmarshal(v, &value) != nil && json.Unmarshal(v, &params) == nil {
					value = params.Value + params.Query
				}
				switch kind {
				case "wildcard":
					value = strings.NewReplacer("*", "", "?", "C", `\\`, `\`).Replace(value)
					s.set(field, value)
				case "match_phrase", "term", "match":
					s.set(field, s.typed(field, value))
				case "exists":
					s.set(value, s.sample(value))
				}
			}
		}
	}
}

func literalString(t kql.Term) (string, bool) {
	l, ok := t.(*kql.Literal)
	if !ok {
		return "", false
	}
	s, ok := l.Value.(string)
	return s, ok
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func (s *synth) typed(field, v string) any {
	switch s.types[field] {
	case "long", "integer", "short", "byte":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		return 1
	case "float", "double", "scaled_float", "half_float":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		return 1.5
	case "boolean":
		return v != "false"
	case "ip":
		if ip := net.ParseIP(v); ip != nil {
			return v
		}
		if ip, _, err := net.ParseCIDR(v); err == nil {
			return ip.String()
		}
		return "81.2.69.160" // public: rules often exclude private ranges
	case "date":
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			return v
		}
		return "2020-01-01T00:00:00Z"
	case "flattened":
		return map[string]any{"value": v}
	case "geo_point":
		return "0,0"
	}
	return v
}

func (s *synth) sample(field string) any {
	return s.typed(field, "esrule-synthetic")
}

func (s *synth) ranged(field, v string, op kql.RangeOp) any {
	switch s.types[field] {
	case "date":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return "2020-01-01T00:00:00Z"
		}
		switch op {
		case kql.OpGT:
			t = t.Add(time.Hour)
		case kql.OpLT:
			t = t.Add(-time.Hour)
		}
		return t.Format(time.RFC3339)
	case "keyword", "wildcard", "":
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return s.typed(field, v)
	}
	switch op {
	case kql.OpGT:
		f++
	case kql.OpLT:
		f--
	}
	return s.typed(field, strconv.FormatFloat(f, 'f', -1, 64))
}
