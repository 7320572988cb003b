package rule

import (
	"fmt"
	"regexp"
	"strings"
)

// LuceneQueryStringOptions are the query_string options Kibana's detection
// engine adds to a Lucene query (getQueryFilter's queryStringOptions, then
// decorateQuery's time_zone from dateFormatTZ "Zulu").
var luceneDefaults = map[string]any{"analyze_wildcard": true, "time_zone": "Zulu"}

// LuceneClause is the clause Kibana's buildQueryFromLucene makes of a Lucene
// query for the detection engine: {"query_string": {"query": q,
// "analyze_wildcard": true, "time_zone": "Zulu"}}, or {"match_all": {}} for a
// blank query (which buildEsQuery then drops). The clause goes to bool.must.
func LuceneClause(query string) map[string]any {
	if strings.TrimSpace(query) == "" {
		return map[string]any{"match_all": map[string]any{}}
	}
	qs := map[string]any{"query": query}
	for k, v := range luceneDefaults {
		qs[k] = v
	}
	return map[string]any{"query_string": qs}
}

// checkLucene finds the Lucene syntax errors that can be told without
// Elasticsearch: an unclosed quoted phrase, unbalanced parentheses or range
// brackets, and a trailing backslash. Elasticsearch's query_string parser
// remains the judge of everything else (`rules validate --es` asks it).
func checkLucene(query string) error {
	var stack []rune
	inQuote := false
	quoteAt := 0
	runes := []rune(query)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case c == '\\':
			if i == len(runes)-1 {
				return fmt.Errorf("invalid Lucene at character %d: a backslash must escape a character", i)
			}
			i++
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote, quoteAt = true, i
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case c == ')':
			if len(stack) == 0 || stack[len(stack)-1] != '(' {
				return fmt.Errorf("invalid Lucene at character %d: ')' closes nothing", i)
			}
			stack = stack[:len(stack)-1]
		case c == ']' || c == '}':
			// Ranges may mix brackets: [a TO b} and {a TO b].
			if len(stack) == 0 || (stack[len(stack)-1] != '[' && stack[len(stack)-1] != '{') {
				return fmt.Errorf("invalid Lucene at character %d: '%c' closes no range", i, c)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inQuote {
		return fmt.Errorf("invalid Lucene at character %d: the quoted phrase is not closed", quoteAt)
	}
	if len(stack) > 0 {
		return fmt.Errorf("invalid Lucene: '%c' is not closed", stack[len(stack)-1])
	}
	return nil
}

// luceneField matches "name:" in a Lucene query (outside quotes), the way
// fields are named in the classic query syntax.
var luceneField = regexp.MustCompile(`(?:^|[\s(+\-!])((?:[A-Za-z0-9_@.*?]|\\.)+)\s*:`)

// LuceneFields lists the field names a Lucene query names (possibly with
// wildcards), in order and without duplicates. Quoted phrases are skipped.
// Elasticsearch's parser is the reference; this is for field checks only.
func LuceneFields(query string) []string {
	var b strings.Builder
	inQuote := false
	runes := []rune(query)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case c == '\\' && i+1 < len(runes):
			b.WriteRune(c)
			b.WriteRune(runes[i+1])
			i++
			continue
		case c == '"':
			inQuote = !inQuote
			b.WriteRune(' ')
			continue
		case inQuote:
			b.WriteRune(' ')
			continue
		}
		b.WriteRune(c)
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range luceneField.FindAllStringSubmatch(b.String(), -1) {
		name := strings.ReplaceAll(m[1], `\`, "")
		if name == "" || seen[name] || name == "_exists_" {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

// lucene validates a query in language lucene.
func (v *validator) lucene(query string) {
	if strings.TrimSpace(query) == "" {
		v.add("query", "is required")
		return
	}
	if err := checkLucene(query); err != nil {
		v.add("query", "%v", err)
	}
}
