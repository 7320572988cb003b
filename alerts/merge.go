package alerts

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// mergeMissingFields is Kibana's default alert merge strategy
// (mergeMissingFieldsWithSource): a `fields` value is copied into source only
// where source has nothing at that path and the path is not blocked by a
// primitive. Multi-fields, invalid runtime-field keys, nested objects, "type"
// objects (geo shapes) and legacy signal.* names are skipped. Single-element
// arrays are unboxed. source is mutated and returned.
func mergeMissingFields(source map[string]any, fields map[string]any) map[string]any {
	keys := slices.Sorted(maps.Keys(fields))
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	for _, key := range keys {
		if robustGet(source, key) != nil || !robustPathValid(source, key) {
			continue
		}
		fv, ok := fields[key].([]any)
		if !ok || len(fv) == 0 || isNestedFieldsValue(fv) || isTypeObject(fv) {
			continue
		}
		if isIgnoredField(key) || isInvalidFieldKey(key) || isMultiField(key, present) {
			continue
		}
		robustSet(source, key, unboxFieldsValue(fv))
	}
	return source
}

// isIgnoredField covers the legacy signal.* alias names Kibana never merges.
func isIgnoredField(key string) bool {
	return key == "signal" || strings.HasPrefix(key, "signal.")
}

var repeatedDots = regexp.MustCompile(`\.{2,}`)

// isInvalidFieldKey matches runtime-field names that cannot be paths.
func isInvalidFieldKey(key string) bool {
	return strings.HasPrefix(key, ".") || repeatedDots.MatchString(key)
}

// isMultiField: a proper dotted prefix of key is itself a fields key
// (host.name.keyword next to host.name).
func isMultiField(key string, present map[string]bool) bool {
	parts := strings.Split(key, ".")
	for i := 1; i < len(parts); i++ {
		if present[strings.Join(parts[:i], ".")] {
			return true
		}
	}
	return false
}

// isObjectLike is lodash isObjectLike for decoded JSON: objects and arrays.
func isObjectLike(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func isNestedFieldsValue(fv []any) bool {
	return isObjectLike(fv[0]) && !isTypeObject(fv)
}

// isTypeObject: some element is an object with a truthy "type" (geo shapes).
func isTypeObject(fv []any) bool {
	for _, v := range fv {
		if m, ok := v.(map[string]any); ok && jsTruthy(m["type"]) {
			return true
		}
	}
	return false
}

func jsTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	if f, ok := toFloat(v); ok {
		return f != 0 && f == f
	}
	return true
}

// unboxFieldsValue is recursiveUnboxingFields against a missing source value:
// one-element arrays become their element, objects are unboxed key by key.
func unboxFieldsValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unboxFieldsValue(e)
		}
		if len(out) == 1 {
			return out[0]
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			lodashSet(out, k, unboxFieldsValue(x[k]))
		}
		return out
	}
	return v
}

// robustGet reads key from doc in any mix of dotted and nested notation.
func robustGet(doc map[string]any, key string) any {
	if v := doc[key]; v != nil {
		return v
	}
	parts := strings.Split(key, ".")
	prefix := parts[0]
	for i := 0; i < len(parts)-1; i++ {
		if i > 0 {
			prefix += "." + parts[i]
		}
		if v := doc[prefix]; v != nil {
			if obj, ok := v.(map[string]any); ok {
				return robustGet(obj, strings.Join(parts[i+1:], "."))
			}
			return nil
		}
	}
	return nil
}

// robustPathValid: every existing value along key is an object.
func robustPathValid(doc map[string]any, key string) bool {
	parts := strings.Split(key, ".")
	prefix := parts[0]
	for i := 0; i < len(parts); i++ {
		if i > 0 {
			prefix += "." + parts[i]
		}
		if v := doc[prefix]; v != nil {
			obj, ok := v.(map[string]any)
			if !ok {
				return false
			}
			return robustPathValid(obj, strings.Join(parts[i+1:], "."))
		}
	}
	return true
}

// robustSet writes key into the first existing object along it, else sets
// it lodash-style (the literal key if present, otherwise nested objects).
func robustSet(doc map[string]any, key string, value any) {
	parts := strings.Split(key, ".")
	prefix := parts[0]
	for i := 0; i < len(parts)-1; i++ {
		if i > 0 {
			prefix += "." + parts[i]
		}
		if obj, ok := doc[prefix].(map[string]any); ok {
			robustSet(obj, strings.Join(parts[i+1:], "."), value)
			return
		}
	}
	lodashSet(doc, key, value)
}

// lodashSet is lodash set for a dotted path on maps (array indices are not
// created; a non-object in the way is replaced by an object).
func lodashSet(doc map[string]any, key string, value any) {
	if _, ok := doc[key]; ok {
		doc[key] = value
		return
	}
	parts := strings.Split(key, ".")
	cur := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = value
}
