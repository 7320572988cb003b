package rule

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxIndexNameBytes is Elasticsearch's limit on an index name (255 bytes).
const maxIndexNameBytes = 255

// ValidateIndexPattern checks one entry of a rule's index list against
// Elasticsearch's rules for index names (MetadataCreateIndexService's
// validateIndexOrAliasName), widened to what a search accepts: several
// expressions separated by commas, each an index name, alias or data stream
// with * wildcards, optionally excluded with a leading -, optionally prefixed
// by a remote cluster (cluster:index), or a date-math name such as
// <logs-{now/d}>. Names are lowercase, at most 255 bytes, do not start with
// _, - or +, are not . or .., and contain none of \ / ? " < > | space , # :
// (and no * outside a pattern). The only name starting with _ accepted is
// _all.
func ValidateIndexPattern(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return fmt.Errorf("is empty")
	}
	for _, expr := range strings.Split(pattern, ",") {
		if err := validateIndexExpression(expr); err != nil {
			if strings.Contains(pattern, ",") {
				return fmt.Errorf("%q: %w", expr, err)
			}
			return err
		}
	}
	return nil
}

func validateIndexExpression(expr string) error {
	if expr == "" {
		return fmt.Errorf("empty expression between commas")
	}
	if !utf8.ValidString(expr) {
		return fmt.Errorf("not valid UTF-8")
	}
	name := strings.TrimPrefix(expr, "-") // an exclusion
	if cluster, rest, ok := strings.Cut(name, ":"); ok && !strings.HasPrefix(name, "<") {
		if err := validateClusterAlias(cluster); err != nil {
			return err
		}
		name = rest
	}
	if strings.HasPrefix(name, "<") {
		return validateDateMathName(name)
	}
	if name == "_all" {
		return nil
	}
	return validateIndexName(name, true)
}

// validateClusterAlias checks the remote cluster part of cluster:index: a
// name or a wildcard pattern of names.
func validateClusterAlias(c string) error {
	switch {
	case c == "":
		return fmt.Errorf("empty remote cluster name before ':'")
	case strings.ContainsAny(c, ` ,:#/\?"<>|`) || hasControl(c):
		return fmt.Errorf("remote cluster name %q contains a character a cluster alias cannot hold", c)
	}
	return nil
}

// validateIndexName applies Elasticsearch's index name rules; wildcards
// allows *.
func validateIndexName(name string, wildcards bool) error {
	switch {
	case name == "":
		return fmt.Errorf("empty index name")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not an index name", name)
	case len(name) > maxIndexNameBytes:
		return fmt.Errorf("index name is %d bytes long; Elasticsearch allows at most %d", len(name), maxIndexNameBytes)
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return fmt.Errorf("%q: an index name cannot start with _, - or +", name)
	case strings.ToLower(name) != name:
		return fmt.Errorf("%q: index names are lowercase", name)
	}
	invalid := `\/?"<>| ,#:`
	if !wildcards {
		invalid += "*"
	}
	if i := strings.IndexAny(name, invalid); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("%q: an index name cannot contain %q (Elasticsearch forbids \\ / * ? \" < > | space , # :)", name, r)
	}
	if hasControl(name) {
		return fmt.Errorf("%q: an index name cannot contain control characters", name)
	}
	return nil
}

// validateDateMathName checks <static{now/d{format|zone}}static>: the static
// parts follow the index name rules, the braces balance.
func validateDateMathName(name string) error {
	if !strings.HasSuffix(name, ">") || len(name) < 3 {
		return fmt.Errorf("%q: a date-math index name is <name{date math}>, ending with >", name)
	}
	inner := name[1 : len(name)-1]
	var static strings.Builder
	depth := 0
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == '\\' && i+1 < len(inner) && depth == 0: // an escaped { or } in the static text
			i++
			static.WriteByte(inner[i])
		case c == '{':
			depth++
			if depth > 2 {
				return fmt.Errorf("%q: date-math braces nest too deeply", name)
			}
		case c == '}':
			depth--
			if depth < 0 {
				return fmt.Errorf("%q: unbalanced } in date math", name)
			}
		case depth == 0:
			static.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%q: control character in date math", name)
		}
	}
	if depth != 0 {
		return fmt.Errorf("%q: unbalanced { in date math", name)
	}
	if !strings.Contains(inner, "{") {
		return fmt.Errorf("%q: a date-math index name needs a {date math} part", name)
	}
	if s := static.String(); s != "" {
		if err := validateIndexName(s, false); err != nil {
			return fmt.Errorf("static part of %w", err)
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
