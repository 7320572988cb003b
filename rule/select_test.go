package rule

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadOrBuiltinAndSelect(t *testing.T) {
	res, err := LoadOrBuiltin(nil)
	require.NoError(t, err)
	require.Len(t, res.Rules, 1)
	b := res.Rules[0]
	require.Equal(t, Builtin().RuleID, b.RuleID)

	other := Builtin()
	other.RuleID, other.ID = "other", "other-id"
	rules := []*Rule{b, other}
	got, unknown := Select(rules, nil)
	require.Equal(t, rules, got, "no ids: every rule")
	require.Empty(t, unknown)
	got, unknown = Select(rules, []string{"other-id", b.RuleID, "other", "nope"})
	require.Equal(t, []*Rule{other, b}, got, "in the order of the ids, each once")
	require.Equal(t, []string{"nope"}, unknown)
}
