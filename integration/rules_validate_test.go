//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntegrationRulesValidateTextField: rules validate --es finds a new
// terms field mapped as text, which run would reject at execution (exit 1),
// as a rule problem (exit 2); a keyword field passes.
func TestIntegrationRulesValidateTextField(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	index := "esrule-validate-typed-" + randomSecret()[:8]
	res, err := c.Indices.Create(index, c.Indices.Create.WithBody(strings.NewReader(
		`{"mappings":{"properties":{"@timestamp":{"type":"date"},"message":{"type":"text"},"event":{"properties":{"dataset":{"type":"keyword"}}},"user":{"properties":{"name":{"type":"keyword"}}}}}}`)))
	require.NoError(t, err)
	res.Body.Close()
	require.False(t, res.IsError(), res.String())
	t.Cleanup(func() {
		if res, err := c.Indices.Delete([]string{index}); err == nil {
			res.Body.Close()
		}
	})
	b, err := os.ReadFile("../rule/testdata/good/minimal.toml")
	require.NoError(t, err)
	write := func(fields string) string {
		src := strings.Replace(string(b), `["logs-proxy-*"]`, `["`+index+`"]`, 1)
		src = strings.Replace(src, `["user.name", "user_agent.original"]`, fields, 1)
		p := filepath.Join(t.TempDir(), "rule.toml")
		require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
		return p
	}
	env := map[string]string{"ELASTICSEARCH_URL": esURL}

	r := runESRule(t, env, "rules", "validate", "--es", "--rules", write(`["message"]`))
	require.Equal(t, 2, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, `field "message" cannot be aggregated (type text`)

	r = runESRule(t, env, "rules", "validate", "--es", "--rules", write(`["user.name"]`))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	r = runESRule(t, env, "rules", "validate", "--rules", write(`["message"]`))
	require.Equal(t, 0, r.code, "without --es, no cluster is asked")
}
