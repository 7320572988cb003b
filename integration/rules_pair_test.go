//go:build integration

package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
)

// TestIntegrationRulesOktaPairVariant shows, on real Elasticsearch, the
// difference between the built-in rule (okta.actor.id alone) and Elastic's
// shipped pair variant (okta.actor.id, cloud.account.id) loaded from rules/:
// the pair rule alerts only for documents that carry both fields, and on a
// new combination even when the actor is old; the built-in rule alerts on a
// new actor alone.
func TestIntegrationRulesOktaPairVariant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newExecEnv(t)
	index := uniqueName(t, "logs-okta.system-pair")
	createIndex(t, env, index, `{"settings":{"number_of_replicas":0},"mappings":{"properties":{
		"@timestamp":{"type":"date"},"event":{"properties":{"ingested":{"type":"date"},"dataset":{"type":"keyword"}}},
		"data_stream":{"properties":{"dataset":{"type":"keyword"}}},
		"cloud":{"properties":{"account":{"properties":{"id":{"type":"keyword"}}}}},
		"okta":{"properties":{"event_type":{"type":"keyword"},"actor":{"properties":{"id":{"type":"keyword"}}},
			"security_context":{"properties":{"is_proxy":{"type":"boolean"}}}}}}}}`)

	slot := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	doc := func(id, actor, account string, at time.Time) string {
		acct := ""
		if account != "" {
			acct = fmt.Sprintf(`"cloud":{"account":{"id":%q}},`, account)
		}
		return fmt.Sprintf(`{"index":{"_index":%q,"_id":%q}}
{"@timestamp":%q,"event":{"ingested":%q,"dataset":"okta.system"},"data_stream":{"dataset":"okta.system"},%s"okta":{"event_type":"user.session.start","actor":{"id":%q},"security_context":{"is_proxy":true}}}
`, index, id, at.Format(time.RFC3339Nano), at.Add(time.Second).Format(time.RFC3339Nano), acct, actor)
	}
	bulk(t, env, doc("h1", "00uC", "acct-1", slot.Add(-48*time.Hour))+ // C seen with acct-1 two days ago
		doc("d1", "00uA", "acct-1", slot.Add(-2*time.Minute))+ // A new, with an account
		doc("d2", "00uB", "", slot.Add(-3*time.Minute))+ // B new, without an account
		doc("d3", "00uC", "acct-2", slot.Add(-1*time.Minute))) // C old, but with a new account

	pairs, err := rule.Load([]string{"../rules/okta/initial_access_first_occurrence_user_session_started_via_proxy_pair.toml"})
	require.NoError(t, err)
	require.Len(t, pairs, 1)
	pair := pairs[0]
	require.Equal(t, []string{"okta.actor.id", "cloud.account.id"}, pair.NewTermsFields)
	pair.ID, pair.Index = "pair-variant", []string{index}
	builtin := rule.Builtin()
	builtin.ID, builtin.Index = "builtin", []string{index}

	got := map[string][]string{}
	for _, r := range []*rule.Rule{builtin, pair} {
		_, err := env.ex.Run(ctx, r, slot, detect.RunOptions{})
		require.NoError(t, err, r.ID)
		for _, a := range readAlerts(t, env.c, env.alias, r.ID) {
			got[r.ID] = append(got[r.ID], fmt.Sprintf("%s %v", a.Source.ID, a.NewTerms))
		}
		sort.Strings(got[r.ID])
	}
	require.Equal(t, []string{"d1 [00uA]", "d2 [00uB]"}, got["builtin"], "built-in: new actors, with or without an account")
	require.Equal(t, []string{"d1 [00uA acct-1]", "d3 [00uC acct-2]"}, got["pair-variant"],
		"pair: only documents with both fields; a new combination although the actor is old")
}

func createIndex(t *testing.T, env *execEnv, index, body string) {
	t.Helper()
	res, err := env.c.Indices.Create(index, env.c.Indices.Create.WithBody(strings.NewReader(body)))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), "create %s: %s", index, res.String())
}

func bulk(t *testing.T, env *execEnv, ndjson string) {
	t.Helper()
	res, err := env.c.Bulk(strings.NewReader(ndjson), env.c.Bulk.WithRefresh("true"))
	require.NoError(t, err)
	defer res.Body.Close()
	require.False(t, res.IsError(), res.String())
	require.NotContains(t, res.String(), `"errors":true`)
}
