package esquery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/esrule/esrule/kql"
)

// capsField is one name of the response: its type keys in response order.
type capsField struct {
	name    string
	esTypes []string
	kbnType string
}

// DecodeFieldCaps turns a _field_caps response into the field specs
// Kibana's data view would hold (Kibana's readFieldCapsResponse): esTypes are
// all types reported for the name, type is Kibana's type of those (or
// "conflict" when they map to different Kibana types), and fields under a
// nested field carry its path. Object and nested entries are dropped; the
// result is sorted by name like Kibana's field list.
func DecodeFieldCaps(body []byte) ([]kql.FieldSpec, error) {
	var resp struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	byName := make(map[string]*capsField, len(resp.Fields))
	for name, raw := range resp.Fields {
		types, err := objectKeys(raw)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		f := &capsField{name: name, esTypes: types, kbnType: "unknown"}
		var kbn []string
		for _, t := range types {
			if k := kibanaType(t); !slices.Contains(kbn, k) {
				kbn = append(kbn, k)
			}
		}
		switch {
		case len(kbn) > 1:
			f.kbnType = "conflict"
		case len(kbn) == 1:
			f.kbnType = kbn[0]
		}
		byName[name] = f
	}
	specs := make([]kql.FieldSpec, 0, len(byName))
	for _, f := range byName {
		if f.kbnType == "object" || f.kbnType == "nested" {
			continue
		}
		spec := kql.FieldSpec{Name: f.name, Type: f.kbnType, ESTypes: f.esTypes}
		for i, parent := range parents(f.name) {
			p := byName[parent]
			if p == nil {
				continue
			}
			if i == 0 && p.kbnType != "object" && p.kbnType != "nested" {
				spec.MultiParent = parent
			}
			if p.kbnType == "nested" && spec.NestedPath == "" {
				spec.NestedPath = parent
			}
		}
		specs = append(specs, spec)
	}
	slices.SortFunc(specs, func(a, b kql.FieldSpec) int { return strings.Compare(a.Name, b.Name) })
	return specs, nil
}

// parents lists the dotted prefixes of name, nearest first:
// "a.b.c" → "a.b", "a".
func parents(name string) []string {
	var out []string
	for i := strings.LastIndexByte(name, '.'); i > 0; i = strings.LastIndexByte(name[:i], '.') {
		out = append(out, name[:i])
	}
	return out
}

// objectKeys returns the keys of a JSON object in document order (Kibana
// keeps field caps' order of types).
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want an object of types")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// kibanaType is Kibana's castEsToKbnFieldTypeName (kbn-field-types).
func kibanaType(esType string) string {
	switch esType {
	case "string", "text", "match_only_text", "keyword", "version", "_type", "_id":
		return "string"
	case "float", "half_float", "scaled_float", "double", "integer", "long", "unsigned_long",
		"short", "byte", "token_count", "aggregate_metric_double":
		return "number"
	case "float_range", "double_range", "integer_range", "long_range":
		return "number_range"
	case "date", "date_nanos":
		return "date"
	case "date_range", "ip", "ip_range", "boolean", "object", "nested", "geo_point", "geo_shape",
		"attachment", "murmur3", "_source", "histogram", "exponential_histogram":
		return esType
	}
	return "unknown"
}
