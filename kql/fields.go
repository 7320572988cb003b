package kql

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// FieldSpec describes one field as Kibana's DataViewFieldBase does, built
// from _field_caps. Its JSON form is that of testdata/kql_vectors.json "field_specs"
// (docs/commands.md, the --fields file):
// {"name","type","esTypes","subType":{"nested":{"path"},"multi":{"parent"}}}.
type FieldSpec struct {
	Name string `json:"name"`
	// Type is Kibana's field type: string, number, date, boolean, ip, ...,
	// or conflict when the indices disagree.
	Type string `json:"type"`
	// ESTypes are all Elasticsearch types field caps reported for the name.
	ESTypes []string `json:"esTypes,omitempty"`
	// NestedPath is the nearest enclosing nested field ("" if none).
	NestedPath string `json:"-"`
	// MultiParent is the parent of a multi-field ("" if none); informational.
	MultiParent string `json:"-"`
}

type fieldSpecJSON struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	ESTypes []string `json:"esTypes,omitempty"`
	SubType *subType `json:"subType,omitempty"`
}

type subType struct {
	Nested *struct {
		Path string `json:"path"`
	} `json:"nested,omitempty"`
	Multi *struct {
		Parent string `json:"parent"`
	} `json:"multi,omitempty"`
}

// MarshalJSON writes the testdata/kql_vectors.json field_specs form.
func (f FieldSpec) MarshalJSON() ([]byte, error) {
	j := fieldSpecJSON{Name: f.Name, Type: f.Type, ESTypes: f.ESTypes}
	if f.NestedPath != "" || f.MultiParent != "" {
		j.SubType = &subType{}
		if f.NestedPath != "" {
			j.SubType.Nested = &struct {
				Path string `json:"path"`
			}{f.NestedPath}
		}
		if f.MultiParent != "" {
			j.SubType.Multi = &struct {
				Parent string `json:"parent"`
			}{f.MultiParent}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the testdata/kql_vectors.json field_specs form.
func (f *FieldSpec) UnmarshalJSON(b []byte) error {
	var j fieldSpecJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = FieldSpec{Name: j.Name, Type: j.Type, ESTypes: j.ESTypes}
	if j.SubType != nil && j.SubType.Nested != nil {
		f.NestedPath = j.SubType.Nested.Path
	}
	if j.SubType != nil && j.SubType.Multi != nil {
		f.MultiParent = j.SubType.Multi.Parent
	}
	return nil
}

func (f *FieldSpec) isKeyword() bool { return len(f.ESTypes) == 1 && f.ESTypes[0] == "keyword" }

// nestedCtx is the enclosing nested group; path is a literal value (string,
// or bool/nil for the odd query that names a path true or null).
type nestedCtx struct{ path any }

// resolve is Kibana's getFullFieldNameNode followed by getFields: the field
// name with the nested path prepended, the data-view fields it denotes, and
// the nested-group validation of typed mode.
func (t *translator) resolve(field Term, ctx *nestedCtx) (Term, []*FieldSpec, error) {
	var nestedPath any
	if ctx != nil {
		nestedPath = ctx.path
	}
	full := field
	if ctx != nil && jsTruthy(nestedPath) {
		prefix := jsString(nestedPath) + "."
		switch f := field.(type) {
		case *Literal:
			full = &Literal{Value: prefix + jsString(f.Value), Quoted: f.Quoted}
		case *Wildcard:
			// Kibana prefixes its marker-joined text, so marker text typed in
			// the path turns into a wildcard too; splitting again mirrors that.
			full = &Wildcard{Parts: strings.Split(prefix+strings.Join(f.Parts, wildcardMark), wildcardMark)}
		}
	}
	if t.o.Fields == nil {
		return full, nil, nil
	}
	fields := t.lookup(full)
	if _, isWildcard := full.(*Wildcard); isWildcard && !jsTruthy(nestedPath) {
		return full, fields, nil // wildcards get automatic nested wrapping instead
	}
	var errs []error
	for _, f := range fields {
		if msg := nestedProblem(f, ctx, nestedPath); msg != "" {
			errs = append(errs, &NestedFieldError{Field: f.Name, Message: msg})
		}
	}
	switch len(errs) {
	case 0:
		return full, fields, nil
	case 1:
		return nil, nil, errs[0]
	}
	return nil, nil, errors.Join(errs...)
}

// nestedProblem checks a field against the nested group it is used in.
func nestedProblem(f *FieldSpec, ctx *nestedCtx, nestedPath any) string {
	switch {
	case jsTruthy(nestedPath) && f.NestedPath == "":
		return fmt.Sprintf("%s is not a nested field but is in nested group %q in the KQL expression.", f.Name, jsString(nestedPath))
	case f.NestedPath != "" && !jsTruthy(nestedPath):
		return fmt.Sprintf("%s is a nested field, but is not in a nested group in the KQL expression.", f.Name)
	}
	// Kibana compares with ===, where an absent group (undefined) differs
	// from a group whose path is null.
	same := ctx == nil && f.NestedPath == ""
	if s, ok := nestedPath.(string); ok && ctx != nil && f.NestedPath != "" {
		same = s == f.NestedPath
	}
	if same {
		return ""
	}
	correct := f.NestedPath
	if correct == "" {
		correct = "undefined"
	}
	return fmt.Sprintf("Nested field %s is being queried with the incorrect nested path. The correct path is %s.", f.Name, correct)
}

// lookup finds the data-view fields a (full) field name denotes: the field of
// that exact name, or every field a wildcard name matches, in data-view order.
func (t *translator) lookup(full Term) []*FieldSpec {
	switch f := full.(type) {
	case *Literal:
		name, ok := f.Value.(string)
		if !ok {
			return nil
		}
		if i, ok := t.index(name); ok {
			return []*FieldSpec{&t.o.Fields[i]}
		}
	case *Wildcard:
		var out []*FieldSpec
		for i := range t.o.Fields {
			if f.Matches(t.o.Fields[i].Name) {
				out = append(out, &t.o.Fields[i])
			}
		}
		return out
	}
	return nil
}

// index returns the position of the first field named name.
func (t *translator) index(name string) (int, bool) {
	if len(t.o.Fields) <= 32 {
		for i := range t.o.Fields {
			if t.o.Fields[i].Name == name {
				return i, true
			}
		}
		return 0, false
	}
	if t.byName == nil {
		t.byName = make(map[string]int, len(t.o.Fields))
		for i := len(t.o.Fields) - 1; i >= 0; i-- {
			t.byName[t.o.Fields[i].Name] = i
		}
	}
	i, ok := t.byName[name]
	return i, ok
}

// ReadFieldSpecs reads a JSON array of field descriptions (FieldSpec, as
// Kibana's data view holds them) from the file at path; an empty array is
// typed mode with no known field.
func ReadFieldSpecs(path string) ([]FieldSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read field specs: %w", err)
	}
	var fields []FieldSpec
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("parse field specs %s: %w", path, err)
	}
	if fields == nil {
		fields = []FieldSpec{}
	}
	return fields, nil
}
