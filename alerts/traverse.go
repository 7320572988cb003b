package alerts

import (
	"maps"
	"slices"
	"strings"
)

// bannedTopLevel are first key segments Kibana strips from a source document
// before it becomes an alert (traverse_and_mutate_doc.ts bannedFields).
var bannedTopLevel = map[string]bool{
	"kibana": true, "signal": true, "threshold_result": true, "kibana.alert.threshold_result": true,
}

// copyNamespaces maps source namespaces to where Kibana copies them, flattened.
var copyNamespaces = map[string]string{
	"event":       "kibana.alert.original_event",
	"data_stream": "kibana.alert.original_data_stream",
}

// RemovedField is a source value dropped as ECS non-compliant or banned.
type RemovedField struct {
	Path  string
	Value any
}

// traverseAndMutateDoc is Kibana's traverseAndMutateDoc: in one pass over doc
// (mutated in place) it drops banned top-level keys, ECS-incompatible values
// and empty arrays/objects, and adds flattened copies of event.* and
// data_stream.* under kibana.alert.original_*. Keys are visited in sorted
// order (JSON decoding loses the source order) so results are deterministic.
func traverseAndMutateDoc(doc map[string]any) (map[string]any, []RemovedField) {
	var removed []RemovedField
	toAdd := map[string]any{}
	var toAddOrder []string
	add := func(k string, v any) {
		if _, ok := toAdd[k]; !ok {
			toAddOrder = append(toAddOrder, k)
		}
		toAdd[k] = v
	}
	traverseObject(doc, nil, true, &removed, add)
	for _, k := range toAddOrder {
		doc[k] = toAdd[k]
	}
	return doc, removed
}

func traverseObject(doc map[string]any, path []string, topLevel bool, removed *[]RemovedField, add func(string, any)) {
	for _, key := range slices.Sorted(maps.Keys(doc)) {
		value := doc[key]
		full := append(append([]string{}, path...), key)
		fullPath := strings.Join(full, ".")
		deleted := false
		if topLevel {
			first, _, _ := strings.Cut(key, ".")
			if bannedTopLevel[first] {
				delete(doc, key)
				deleted = true
				*removed = append(*removed, RemovedField{fullPath, value})
			}
		}
		if !deleted {
			if arr, ok := value.([]any); ok {
				kept := traverseArray(arr, full, removed, add)
				if len(kept) > 0 {
					doc[key] = kept
				} else {
					delete(doc, key)
					deleted = true
				}
			} else if !ecsCompliant(value, fullPath) {
				delete(doc, key)
				deleted = true
				*removed = append(*removed, RemovedField{fullPath, value})
			} else if obj, ok := value.(map[string]any); ok {
				traverseObject(obj, full, false, removed, add)
				if len(obj) == 0 {
					delete(doc, key)
					deleted = true
				}
			}
		}
		if !deleted && topLevel {
			first, rest, hasRest := strings.Cut(fullPath, ".")
			if dest, ok := copyNamespaces[first]; ok {
				if hasRest {
					dest += "." + rest
				}
				current := doc[key]
				if obj, ok := current.(map[string]any); ok {
					flattenWithPrefix(dest, obj, add)
				} else {
					add(dest, current)
				}
			}
		}
	}
}

func traverseArray(arr []any, path []string, removed *[]RemovedField, add func(string, any)) []any {
	pathString := strings.Join(path, ".")
	for i, v := range arr {
		if inner, ok := v.([]any); ok {
			arr[i] = traverseArray(inner, path, removed, add)
		}
	}
	kept := make([]any, 0, len(arr))
	for _, v := range arr {
		if inner, ok := v.([]any); ok {
			if len(inner) > 0 {
				kept = append(kept, inner)
			}
			continue
		}
		if !ecsCompliant(v, pathString) {
			*removed = append(*removed, RemovedField{pathString, v})
			continue
		}
		if obj, ok := v.(map[string]any); ok {
			traverseObject(obj, path, false, removed, add)
			if len(obj) == 0 {
				continue
			}
		}
		kept = append(kept, v)
	}
	return kept
}

// flattenWithPrefix is @kbn/securitysolution-rules flattenWithPrefix: plain
// objects become dotted keys under prefix; everything else (arrays included)
// is a leaf.
func flattenWithPrefix(prefix string, v any, add func(string, any)) {
	obj, ok := v.(map[string]any)
	if !ok {
		add(prefix, v)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		flattenWithPrefix(prefix+"."+k, obj[k], add)
	}
}
