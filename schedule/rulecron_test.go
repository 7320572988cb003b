package schedule

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/rule"
)

func TestParseRuleSchedules(t *testing.T) {
	r := rule.Builtin()
	got, err := ParseRuleSchedules([]string{r.RuleID + "=@every 1m"}, []*rule.Rule{r})
	require.NoError(t, err)
	require.Len(t, got, 1)
	for v, want := range map[string]string{
		"*/5 * * * *":         `"*/5 * * * *": want RULE_ID=CRON`,
		"nope=*/5 * * * *":    `"nope=*/5 * * * *": no loaded rule has id or rule_id nope`,
		r.RuleID + "=*/5 * *": "parse cron expression",
	} {
		_, err := ParseRuleSchedules([]string{v}, []*rule.Rule{r})
		require.ErrorContains(t, err, want, v)
	}
}
