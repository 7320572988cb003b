package rule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
)

// parseNDJSON reads a Kibana rule export: one JSON rule per line in the API's
// flat shape. The export summary line ({"exported_count":...}) and exported
// exception lists and items (objects with list_id and no rule_id) are skipped;
// a rule that refers to an exception list is reported by validation.
func parseNDJSON(file string, src []byte) ([]*Rule, []Problem) {
	var rules []*Rule
	var problems []Problem
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), MaxFileSize+1)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		m, err := decodeJSONObject(line)
		if err != nil {
			problems = append(problems, Problem{File: file, Line: n, Reason: "invalid JSON: " + err.Error()})
			continue
		}
		if skipExportLine(m) {
			continue
		}
		r, ps := ruleFromJSON(file, n, m)
		rules = append(rules, r)
		problems = append(problems, ps...)
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, Problem{File: file, Line: n + 1, Reason: "read NDJSON: " + err.Error()})
	}
	return rules, problems
}

// parseJSON reads a .json file: a single rule object, a list of rule objects
// (each at the line where it starts), or else NDJSON.
func parseJSON(file string, src []byte) ([]*Rule, []Problem) {
	trimmed := bytes.TrimSpace(src)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return parseJSONArray(file, src)
	}
	if m, err := decodeJSONObject(trimmed); err == nil {
		if skipExportLine(m) {
			return nil, nil
		}
		start := 1 + bytes.Count(src[:bytes.IndexByte(src, '{')], []byte("\n"))
		r, ps := ruleFromJSON(file, start, m)
		return []*Rule{r}, ps
	}
	return parseNDJSON(file, src)
}

func parseJSONArray(file string, src []byte) ([]*Rule, []Problem) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // [
		return nil, []Problem{{File: file, Line: 1, Reason: "invalid JSON: " + err.Error()}}
	}
	var rules []*Rule
	var problems []Problem
	for dec.More() {
		offset := int(dec.InputOffset())
		line := 1 + bytes.Count(src[:offset], []byte("\n"))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, []Problem{{File: file, Line: line, Reason: "invalid JSON: " + err.Error()}}
		}
		// The offset is just after the previous value; move to the object's first line.
		if rest := src[offset:]; len(rest) > 0 {
			skip := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n,"))
			line = 1 + bytes.Count(src[:offset+skip], []byte("\n"))
		}
		m, ok := v.(map[string]any)
		if !ok {
			problems = append(problems, Problem{File: file, Line: line, Reason: "want a rule object, got " + describe(v)})
			continue
		}
		if skipExportLine(m) {
			continue
		}
		r, ps := ruleFromJSON(file, line, m)
		rules = append(rules, r)
		problems = append(problems, ps...)
	}
	if _, err := dec.Token(); err != nil { // ]
		problems = append(problems, Problem{File: file, Reason: "invalid JSON: " + err.Error()})
	}
	return rules, problems
}

func decodeJSONObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value on the line")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a rule object, got %s", describe(v))
	}
	return m, nil
}

// skipExportLine recognises the non-rule lines of a Kibana export.
func skipExportLine(m map[string]any) bool {
	if _, ok := m["exported_count"]; ok {
		return true
	}
	_, hasList := m["list_id"]
	_, hasRule := m["rule_id"]
	return hasList && !hasRule
}

// ruleFromJSON decodes and validates one rule object found at line.
func ruleFromJSON(file string, line int, m map[string]any) (*Rule, []Problem) {
	d := newDecoder(file)
	r := d.decodeRule(m)
	r.Origin = fmt.Sprintf("%s:%d", file, line)
	problems := d.problems
	vps, _ := r.validate()
	for _, p := range vps {
		if !d.bad[baseField(p.Field)] {
			problems = append(problems, p)
		}
	}
	for i := range problems {
		problems[i].File, problems[i].Line = file, line
	}
	return r, problems
}
