// Package ecsindex builds an Elasticsearch index mapping with ECS field types
// (from the field table alerts/ecs_fields.tsv), for tests and benchmarks that
// need source indices typed as Elastic's integrations type them. Fields
// outside ECS are mapped dynamically, strings as keyword, as the
// integrations' templates do.
package ecsindex

import (
	"fmt"
	"sort"
	"strings"
)

// Types reads an ECS field table: tab-separated name and type per line,
// "#" comments.
func Types(tsv string) (map[string]string, error) {
	types := map[string]string{}
	for i, line := range strings.Split(tsv, "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 || cols[0] == "" || cols[1] == "" {
			return nil, fmt.Errorf("read ECS field table: line %d: want name and type", i+1)
		}
		types[cols[0]] = cols[1]
	}
	return types, nil
}

// Mapping returns the "mappings" object of an index with every ECS field of
// types. Fields below a leaf field (user.name.text) become multi-fields.
// Types that need an optional module are mapped to a core stand-in
// (moduleTypes).
func Mapping(types map[string]string) map[string]any {
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names) // parents before children
	root := map[string]any{}
	for _, name := range names {
		place(root, strings.Split(name, "."), types[name])
	}
	return map[string]any{
		"dynamic_templates": []any{map[string]any{"strings_as_keyword": map[string]any{
			"match_mapping_type": "string",
			"mapping":            map[string]any{"type": "keyword", "ignore_above": 1024},
		}}},
		"properties": root,
	}
}

// place puts a field of type typ at path below props.
func place(props map[string]any, path []string, typ string) {
	head := path[0]
	if len(path) == 1 {
		if existing, ok := props[head].(map[string]any); ok {
			// An object already implied by a child: keep its properties.
			if typ == "nested" {
				existing["type"] = "nested"
			}
			return
		}
		props[head] = leaf(typ)
		return
	}
	node, ok := props[head].(map[string]any)
	if !ok {
		node = map[string]any{"properties": map[string]any{}}
		props[head] = node
	}
	if t, _ := node["type"].(string); t != "" && t != "object" && t != "nested" {
		// A multi-field of a leaf (keyword user.name with text user.name.text).
		fields, _ := node["fields"].(map[string]any)
		if fields == nil {
			fields = map[string]any{}
			node["fields"] = fields
		}
		fields[strings.Join(path[1:], ".")] = leaf(typ)
		return
	}
	sub, _ := node["properties"].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		node["properties"] = sub
	}
	place(sub, path[1:], typ)
}

// moduleTypes are the ECS types that need an Elasticsearch module beyond
// the server and x-pack-core, with the core type that stands in for them so
// that the mapping works on a minimal distribution (scripts/elasticsearch.sh).
var moduleTypes = map[string]string{
	"match_only_text":  "text",    // mapper-extras
	"scaled_float":     "float",   // mapper-extras
	"wildcard":         "keyword", // x-pack-wildcard
	"constant_keyword": "keyword", // x-pack-constant-keyword
}

func leaf(typ string) map[string]any {
	if core, ok := moduleTypes[typ]; ok {
		typ = core
	}
	switch typ {
	case "object":
		return map[string]any{"properties": map[string]any{}}
	case "nested":
		return map[string]any{"type": "nested", "properties": map[string]any{}}
	case "keyword":
		return map[string]any{"type": "keyword", "ignore_above": 1024}
	}
	return map[string]any{"type": typ}
}

// Extras are the non-ECS parts of an integration's mapping that rules
// depend on: nested objects (KQL's field:{...} needs them) and keyword
// multi-fields with a lowercase normalizer (Elastic Defend's
// process.name.caseless).
type Extras struct {
	Nested   []string // object paths mapped as nested
	Caseless []string // multi-fields such as process.name.caseless
}

// Settings returns the index settings Extras need (the lowercase normalizer).
func (e Extras) Settings() map[string]any {
	return map[string]any{"analysis": map[string]any{"normalizer": map[string]any{
		"lowercase": map[string]any{"type": "custom", "filter": []any{"lowercase"}},
	}}}
}

// Apply adds the extras to a mapping from Mapping.
func (e Extras) Apply(mapping map[string]any) {
	root, _ := mapping["properties"].(map[string]any)
	for _, path := range e.Nested {
		place(root, strings.Split(path, "."), "nested")
		node := lookup(root, path)
		if node != nil {
			node["type"] = "nested"
		}
	}
	for _, f := range e.Caseless {
		i := strings.LastIndexByte(f, '.')
		if i <= 0 {
			continue
		}
		parent := lookup(root, f[:i])
		if parent == nil {
			place(root, strings.Split(f[:i], "."), "keyword")
			parent = lookup(root, f[:i])
		}
		if t, _ := parent["type"].(string); t != "keyword" {
			continue
		}
		fields, _ := parent["fields"].(map[string]any)
		if fields == nil {
			fields = map[string]any{}
			parent["fields"] = fields
		}
		fields[f[i+1:]] = map[string]any{"type": "keyword", "normalizer": "lowercase", "ignore_above": 1024}
	}
}

// lookup finds the mapping of a dotted path below props.
func lookup(props map[string]any, path string) map[string]any {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		node, _ := props[p].(map[string]any)
		if node == nil {
			return nil
		}
		if i == len(parts)-1 {
			return node
		}
		props, _ = node["properties"].(map[string]any)
		if props == nil {
			return nil
		}
	}
	return nil
}
