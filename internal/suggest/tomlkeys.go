package suggest

import (
	"fmt"
	"reflect"
	"strings"
)

// UnknownKeys describes the keys a TOML decoder left undecoded (each a
// dotted path such as "elasticsearch.apikey") against the toml tags of the
// struct it decoded into: `apikey (in [elasticsearch]; did you mean api_key?)`.
// Arrays of tables are followed through their element type.
func UnknownKeys(paths [][]string, into any) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		parent, key := p[:len(p)-1], p[len(p)-1]
		known := tomlKeys(reflect.TypeOf(into), parent)
		msg := strings.Join(p, ".")
		var notes []string
		if len(parent) > 0 {
			notes = append(notes, fmt.Sprintf("in [%s]", strings.Join(parent, ".")))
		}
		if s := Nearest(key, known); s != "" {
			notes = append(notes, "did you mean "+s+"?")
		}
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		out = append(out, msg)
	}
	return out
}

// tomlKeys lists the toml tag names of the struct reached from t by path.
func tomlKeys(t reflect.Type, path []string) []string {
	t = elem(t)
	for _, name := range path {
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = elem(f.Type)
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := tagName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tagName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}
