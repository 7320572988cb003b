package rule

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/esrule/esrule/internal/inputbound"
)

// parseTOML reads one Elastic detection-rules TOML file: [metadata], [rule],
// [rule.new_terms] with field = "new_terms_fields" and value = [...], and
// [[rule.new_terms.history_window_start]] with field = "history_window_start".
func parseTOML(file string, src []byte) ([]*Rule, []Problem) {
	if p, deep := tooDeep(file, src); deep {
		return nil, []Problem{p}
	}
	var doc map[string]any
	if _, err := toml.Decode(string(src), &doc); err != nil {
		p := Problem{File: file, Reason: "invalid TOML: " + err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			p.Line = pe.Position.Line
			p.Reason = "invalid TOML: " + pe.Message
		}
		return nil, []Problem{p}
	}
	lines := tomlKeyLines(string(src))
	lineOf := func(field string) int {
		base := baseField(field)
		if l, ok := lines[tomlPath(base)]; ok {
			return l
		}
		if base == "new_terms_fields" || base == "history_window_start" {
			if l, ok := lines["rule.new_terms"]; ok {
				return l
			}
		}
		return lines["rule"]
	}

	ruleTable, ok := doc["rule"].(map[string]any)
	if !ok {
		return nil, []Problem{{File: file, Reason: "no [rule] table: not a detection-rules TOML file"}}
	}
	flat, nested := flattenNewTerms(ruleTable)
	for i := range nested {
		nested[i].File = file
	}

	d := newDecoder(file)
	r := d.decodeRule(flat)
	r.Origin = file
	problems := append(nested, d.problems...)
	problems = append(problems, tomlKeyProblems(file, doc, lines)...)
	vps, kqlOffset := r.validate()
	for _, p := range vps {
		if !d.bad[baseField(p.Field)] {
			problems = append(problems, p)
		}
	}
	for i := range problems {
		if problems[i].Line == 0 {
			problems[i].Line = lineOf(problems[i].Field)
		}
		if kqlOffset >= 0 && problems[i].Field == "query" && strings.HasPrefix(problems[i].Reason, "invalid KQL") {
			problems[i].Line = queryLine(string(src), lines["rule.query"], r.Query, kqlOffset)
		}
	}
	return []*Rule{r}, problems
}

// tooDeep reports a file beyond inputbound.DefaultTOMLLimits (nesting depth,
// number of items), which is refused before decoding: the decoder's memory
// grows with the square of the depth.
func tooDeep(file string, src []byte) (Problem, bool) {
	var le *inputbound.LimitError
	if err := inputbound.CheckTOML(src, inputbound.DefaultTOMLLimits); errors.As(err, &le) {
		return Problem{File: file, Line: le.Line, Reason: "TOML " + le.Reason + ": refused before decoding"}, true
	}
	return Problem{}, false
}

// flattenNewTerms returns a copy of the [rule] table in Kibana's flat shape:
// [rule.new_terms] becomes new_terms_fields and history_window_start (as
// detection-rules' transform() does). Problems with the nested shape are returned.
func flattenNewTerms(ruleTable map[string]any) (map[string]any, []Problem) {
	flat := make(map[string]any, len(ruleTable)+2)
	for k, v := range ruleTable {
		if k != "new_terms" {
			flat[k] = v
		}
	}
	raw, ok := ruleTable["new_terms"]
	if !ok {
		return flat, nil
	}
	nt, ok := raw.(map[string]any)
	if !ok {
		return flat, []Problem{{Field: "new_terms", Reason: "want a [rule.new_terms] table, got " + describe(raw)}}
	}
	var problems []Problem
	if f, _ := nt["field"].(string); f != "new_terms_fields" {
		problems = append(problems, Problem{Field: "new_terms_fields",
			Reason: fmt.Sprintf("[rule.new_terms] field must be \"new_terms_fields\", got %s", describeOpt(nt["field"]))})
	}
	if v, ok := nt["value"]; ok {
		flat["new_terms_fields"] = v
	}
	hws, ok := nt["history_window_start"]
	if !ok {
		return flat, problems
	}
	entries, ok := hws.([]map[string]any)
	if !ok {
		if list, isList := hws.([]any); isList {
			for _, e := range list {
				if m, isMap := e.(map[string]any); isMap {
					entries = append(entries, m)
				}
			}
			ok = len(entries) == len(list)
		}
	}
	if !ok || len(entries) != 1 {
		return flat, append(problems, Problem{Field: "history_window_start",
			Reason: "want exactly one [[rule.new_terms.history_window_start]] table with field and value"})
	}
	if f, _ := entries[0]["field"].(string); f != "history_window_start" {
		problems = append(problems, Problem{Field: "history_window_start",
			Reason: fmt.Sprintf("[[rule.new_terms.history_window_start]] field must be \"history_window_start\", got %s", describeOpt(entries[0]["field"]))})
	}
	if v, ok := entries[0]["value"]; ok {
		flat["history_window_start"] = v
	}
	return flat, problems
}

func describeOpt(v any) string {
	if v == nil {
		return "nothing"
	}
	return describe(v)
}

// baseField strips list indexes and sub-fields: "threat[0].tactic" → "threat".
func baseField(field string) string {
	if i := strings.IndexAny(field, "[."); i >= 0 {
		return field[:i]
	}
	return field
}

// tomlPath is where a flat Kibana field lives in a detection-rules file.
func tomlPath(field string) string {
	switch field {
	case "new_terms_fields":
		return "rule.new_terms.value"
	case "history_window_start":
		return "rule.new_terms.history_window_start.value"
	case "":
		return "rule"
	}
	return "rule." + field
}

var (
	tomlHeader = regexp.MustCompile(`^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$`)
	tomlKey    = regexp.MustCompile(`^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=`)
)

// tomlKeyLines maps dotted key paths ("rule.risk_score", "rule.new_terms.value",
// table headers like "rule.new_terms") to the 1-based line of their first
// definition. BurntSushi/toml does not expose key positions, so this is a
// small line scan that skips multi-line strings.
func tomlKeyLines(src string) map[string]int {
	lines := map[string]int{}
	table := ""
	inString := "" // the open multi-line string delimiter, if any
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		if inString != "" {
			if strings.Count(line, inString)%2 == 1 {
				inString = ""
			}
			continue
		}
		if m := tomlHeader.FindStringSubmatch(line); m != nil && !tomlKey.MatchString(line) {
			table = normalizeKey(m[1])
			if _, ok := lines[table]; !ok {
				lines[table] = n
			}
			continue
		}
		if m := tomlKey.FindStringSubmatch(line); m != nil {
			path := normalizeKey(m[1])
			if table != "" {
				path = table + "." + path
			}
			if _, ok := lines[path]; !ok {
				lines[path] = n
			}
			rest := line[len(m[0]):]
			for _, delim := range []string{`"""`, `'''`} {
				if strings.Count(rest, delim)%2 == 1 {
					inString = delim
					break
				}
			}
		}
	}
	return lines
}

// normalizeKey removes quotes and spaces from a dotted key.
func normalizeKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// queryLine is the file line of character offset in the query value whose key
// is on keyLine. A multi-line string starting right after its delimiter has
// its first newline trimmed by TOML, so its content starts on the next line.
func queryLine(src string, keyLine int, query string, offset int) int {
	if keyLine == 0 {
		return 0
	}
	lines := strings.Split(src, "\n")
	start := keyLine
	if keyLine <= len(lines) {
		rest := strings.TrimSpace(lines[keyLine-1][strings.Index(lines[keyLine-1], "=")+1:])
		if rest == `'''` || rest == `"""` {
			start++
		}
	}
	runes := []rune(query)
	if offset > len(runes) {
		offset = len(runes)
	}
	return start + strings.Count(string(runes[:offset]), "\n")
}

// TOMLFieldLine returns the line of a detection-rules file src where the
// rule parameter field (a Kibana name such as "new_terms_fields" or
// "filters") is set, or 0 when it is not found.
func TOMLFieldLine(src []byte, field string) int {
	lines := tomlKeyLines(string(src))
	if l, ok := lines[tomlPath(baseField(field))]; ok {
		return l
	}
	switch baseField(field) {
	case "new_terms_fields", "history_window_start":
		return lines["rule.new_terms"]
	}
	return 0
}
