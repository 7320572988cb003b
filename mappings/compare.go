package mappings

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// sameTemplate reports whether an installed index template (as returned by
// GET _index_template) means the same as the desired one. Elasticsearch
// returns settings as nested strings and adds an empty composed_of.
func sameTemplate(desired, installed map[string]any) bool {
	return reflect.DeepEqual(canonicalTemplate(desired), canonicalTemplate(installed))
}

// templateBookkeeping are keys Elasticsearch adds to a template it returns
// (newer versions record creation and modification times).
var templateBookkeeping = []string{"created_date", "created_date_millis", "modified_date", "modified_date_millis"}

func canonicalTemplate(t map[string]any) any {
	c := canonical(t).(map[string]any)
	for _, k := range templateBookkeeping {
		delete(c, k)
	}
	for k, v := range c {
		if isEmpty(v) {
			delete(c, k) // defaults such as "composed_of": [] or "deprecated": false
		}
	}
	if tmpl, ok := c["template"].(map[string]any); ok {
		if s, ok := tmpl["settings"].(map[string]any); ok {
			tmpl["settings"] = flattenSettings(s)
		}
	}
	return c
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case string:
		return x == "false"
	}
	return false
}

// sameMapping reports whether an index's installed mapping (GET _mapping)
// means the same as the desired one. Elasticsearch returns scalars such as
// "dynamic" as strings and leaves out "type": "object" on objects with
// properties.
func sameMapping(desired, installed map[string]any) bool {
	return reflect.DeepEqual(canonicalMapping(desired), canonicalMapping(installed))
}

func canonicalMapping(m map[string]any) any {
	c := canonical(m).(map[string]any)
	dropObjectTypes(c)
	return c
}

func dropObjectTypes(m map[string]any) {
	props, _ := m["properties"].(map[string]any)
	for _, v := range props {
		f, _ := v.(map[string]any)
		if _, has := f["properties"]; has && f["type"] == "object" {
			delete(f, "type")
		}
		dropObjectTypes(f)
	}
}

// canonical turns a decoded JSON value into a form where every scalar is a
// string, so that 1, "1" and json.Number("1") compare equal.
func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return nil
	default:
		// Values built in Go (slices of strings, ...): round-trip through JSON.
		b, _ := json.Marshal(x)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var decoded any
		_ = dec.Decode(&decoded)
		return canonical(decoded)
	}
}

// flattenSettings returns settings as dotted keys under "index.", the form
// Elasticsearch treats as equivalent to any nesting.
func flattenSettings(s map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok {
				walk(key+".", sub)
				continue
			}
			if !strings.HasPrefix(key, "index.") {
				key = "index." + key
			}
			out[key] = v
		}
	}
	walk("", s)
	return out
}
