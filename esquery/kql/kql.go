// Package kql parses Kibana Query Language (KQL, "kuery") and translates it to
// Elasticsearch query DSL exactly as Kibana's detection engine does.
//
// STUB: the public API is fixed here so that other packages can build against
// it; the implementation is being written.
package kql

import "errors"

// Node is a parsed KQL expression.
type Node interface{ node() }

// FieldSpec describes one field as Kibana's DataViewFieldBase does, built from
// _field_caps (see kql_vectors.json "field_specs").
type FieldSpec struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	ESTypes    []string `json:"esTypes,omitempty"`
	NestedPath string   `json:"-"`
}

// Options select the translation mode. A nil Fields means untyped mode.
type Options struct {
	Fields       []FieldSpec
	DateFormatTZ string
}

// SyntaxError is a KQL syntax error at a character offset.
type SyntaxError struct {
	Offset  int
	Message string
}

func (e *SyntaxError) Error() string { return e.Message }

// Parse parses a KQL query.
func Parse(query string) (Node, error) { return nil, errors.New("kql: not implemented") }

// ToDSL translates a parsed query to one DSL clause.
func ToDSL(n Node, o Options) (map[string]any, error) { return nil, errors.New("kql: not implemented") }

// FieldNames lists the field names (possibly with wildcards) a query refers to,
// for asking _field_caps.
func FieldNames(n Node) []string { return nil }
