package rule

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateIndexPattern(t *testing.T) {
	good := []string{
		"logs-okta*", "filebeat-*", "*", "_all", ".ds-logs-*", "logs-*,-logs-debug*", "logs-a,logs-b",
		"remote:logs-*", "*:logs-*", "cluster-1:filebeat-*,-cluster-1:filebeat-old",
		"<logs-{now/d}>", "<logs-{now/M{yyyy.MM}}>", "<logs-{now/d{yyyy.MM.dd|+12:00}}>", "remote:<logs-{now/d}>",
		"a" + strings.Repeat("b", 254), "logs-ü*",
	}
	for _, p := range good {
		require.NoError(t, ValidateIndexPattern(p), p)
	}
	bad := map[string]string{
		"":                             "is empty",
		"   ":                          "is empty",
		"secret-hr/_cache/clear#":      `cannot contain '/'`,
		"logs?x":                       `cannot contain '?'`,
		"logs#frag":                    `cannot contain '#'`,
		"logs x":                       `cannot contain ' '`,
		"logs\\x":                      `cannot contain '\\'`,
		"Logs-*":                       "lowercase",
		"_cat":                         "cannot start with _",
		"+logs":                        "cannot start with _, - or +",
		"--logs":                       "cannot start with _, - or +",
		"logs-a,,logs-b":               "empty expression between commas",
		"logs-a,":                      "empty expression between commas",
		".":                            "not an index name",
		"..":                           "not an index name",
		":logs":                        "empty remote cluster name",
		"a:b:c":                        "cannot contain ':'",
		"a" + strings.Repeat("b", 255): "at most 255",
		"<logs-{now/d}":                "ending with >",
		"<logs-{now/d>":                "unbalanced {",
		"<logs-}now/d{>":               "unbalanced }",
		"<logs>":                       "needs a {date math} part",
		"<Logs-{now/d}>":               "lowercase",
		"<logs*-{now/d}>":              `cannot contain '*'`,
		"logs\x1b[31m":                 "control characters",
		"logs\xff":                     "not valid UTF-8",
		"<{{{now}}}>":                  "nest too deeply",
	}
	for p, want := range bad {
		err := ValidateIndexPattern(p)
		require.Error(t, err, "%q", p)
		require.Contains(t, err.Error(), want, "%q", p)
	}
}
