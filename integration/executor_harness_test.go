//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/internal/oracle"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
)

// execEnv is one alerts space (alias, template, bootstrap index) and an
// executor writing into it, shared by the subtests of one test function;
// every dataset uses its own rule id, so alerts never collide.
type execEnv struct {
	c     *elasticsearch.Client
	space string
	alias string
	ex    *detect.Executor
	state string
}

func newExecEnv(t *testing.T) *execEnv {
	t.Helper()
	ctx := context.Background()
	c := newClient(t)
	// uniqueName's cleanup deletes esrule-alerts-<space>* (alias indices) and the state index.
	space := strings.TrimPrefix(uniqueName(t, "esrule-alerts-exec"), "esrule-alerts-")
	state := uniqueName(t, "esrule-state-exec")
	zero := 0
	require.NoError(t, mappings.Ensure(ctx, c, mappings.Options{Space: space, Replicas: &zero, StateIndex: state}))
	waitActive(t, c, mappings.AlertsAlias(space), state)
	t.Cleanup(func() {
		res, err := c.Indices.DeleteIndexTemplate(mappings.AlertsTemplate(space))
		if err == nil {
			res.Body.Close()
		}
	})
	// Refresh like Kibana, so that the next slot's duplicate pre-check sees these alerts.
	eng := newEngine(t, engine.Config{StateIndex: state, Refresh: "true"})
	return &execEnv{c: c, space: space, alias: mappings.AlertsAlias(space), ex: eng.Executor(space), state: state}
}

// ruleFor is the synthetic rule of a dataset, with its own saved-object id.
func ruleFor(t *testing.T, d randdata.Dataset, space, soID string) *rule.Rule {
	t.Helper()
	r := &rule.Rule{
		ID: soID, RuleID: soID, Name: "randdata " + soID, Description: d.Describe(),
		Type: rule.TypeNewTerms, Language: "kuery", Query: d.Rule.Query, Index: []string{d.Pattern},
		NewTermsFields: d.Rule.Fields, HistoryWindowStart: d.Rule.HistoryDateMath(),
		From: d.Rule.FromDateMath(), To: "now", Interval: d.Rule.IntervalString(), MaxSignals: d.Rule.MaxSignals,
		TimestampOverride: d.Rule.TimestampOverride(), TimestampOverrideFallbackDisabled: d.Rule.FallbackDisabled(),
		Severity: "low", RiskScore: 21, Enabled: true, Space: space,
	}
	require.Empty(t, r.Validate(), "synthetic rule must be valid")
	require.NoError(t, r.Normalize())
	return r
}

// oracleFor computes the expected alerts of the dataset's slots with the
// shared alert-id hash; everything else is the oracle's own.
func oracleFor(t *testing.T, d randdata.Dataset, space, soID string) []oracle.SlotResult {
	t.Helper()
	res, err := d.Oracle(space, soID, alerts.ID)
	require.NoError(t, err)
	return res
}

// written is one alert read back from the alerts index.
type written struct {
	ID        string
	ExecUUID  string
	Source    oracle.DocRef
	NewTerms  []any
	AlertUUID string
	Timestamp string
}

// readAlerts returns every alert of a rule in the alias, refreshed first.
func readAlerts(t *testing.T, c *elasticsearch.Client, alias, soID string) []written {
	t.Helper()
	ctx := context.Background()
	res, err := c.Indices.Refresh(c.Indices.Refresh.WithIndex(alias), c.Indices.Refresh.WithContext(ctx))
	require.NoError(t, err)
	res.Body.Close()
	body := fmt.Sprintf(`{"size":10000,"track_total_hits":true,"query":{"term":{"kibana.alert.rule.uuid":%q}}}`, soID)
	res, err = c.Search(c.Search.WithContext(ctx), c.Search.WithIndex(alias), c.Search.WithBody(strings.NewReader(body)))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.False(t, res.IsError(), "search alerts: %s", raw)
	var sr struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
			Hits  []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&sr))
	require.Less(t, sr.Hits.Total.Value, 10000)
	var out []written
	for _, h := range sr.Hits.Hits {
		w := written{ID: h.ID, NewTerms: randdata.Lookup(h.Source, "kibana.alert.new_terms")}
		if v := randdata.Lookup(h.Source, "kibana.alert.rule.execution.uuid"); len(v) == 1 {
			w.ExecUUID, _ = v[0].(string)
		}
		if v := randdata.Lookup(h.Source, "kibana.alert.uuid"); len(v) == 1 {
			w.AlertUUID, _ = v[0].(string) // must equal _id
		}
		for _, a := range randdata.Lookup(h.Source, "kibana.alert.ancestors") {
			m, _ := a.(map[string]any)
			if fmt.Sprint(m["depth"]) == "0" {
				w.Source = oracle.DocRef{Index: fmt.Sprint(m["index"]), ID: fmt.Sprint(m["id"])}
			}
		}
		out = append(out, w)
	}
	return out
}

// canonTerm renders a term value with its JSON type: strings, numbers
// (compared as float64, JS semantics) and booleans.
func canonTerm(v any) string {
	switch x := v.(type) {
	case string:
		return "string:" + x
	case bool:
		return "bool:" + strconv.FormatBool(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return "number?:" + x.String()
		}
		return "number:" + strconv.FormatFloat(f, 'g', -1, 64)
	case float64:
		return "number:" + strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return "number:" + strconv.FormatFloat(float64(x), 'g', -1, 64)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func canonTerms(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = canonTerm(v)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// slotRun is what the executor did for one slot.
type slotRun struct {
	Slot   time.Time
	Result detect.Result
}

// runSlots executes the rule at every slot in order and fails on any error.
func (e *execEnv) runSlots(t *testing.T, r *rule.Rule, slots []time.Time) []slotRun {
	t.Helper()
	var out []slotRun
	for _, slot := range slots {
		start := time.Now()
		res, err := e.ex.Run(context.Background(), r, slot, detect.RunOptions{})
		require.NoError(t, err, "run slot %s", slot.Format(time.RFC3339))
		if testing.Verbose() {
			t.Logf("slot %s: %s wall, %s ES took, %d searches, %d terms checked, %d new, %d created, %d duplicate, %d truncated",
				slot.Format("15:04"), time.Since(start).Round(time.Millisecond), res.ESTook, res.Requests,
				res.TermsChecked, res.NewTerms, res.AlertsCreated, res.AlertsDuplicate, res.AlertsTruncated)
		}
		out = append(out, slotRun{Slot: slot, Result: res})
	}
	return out
}

// compare checks the written alerts of every slot against the oracle and
// returns a readable diff ("" when equal).
func compare(d randdata.Dataset, want []oracle.SlotResult, runs []slotRun, got []written, reproduce string) string {
	var diff strings.Builder
	byExec := map[string][]written{}
	for _, w := range got {
		byExec[w.ExecUUID] = append(byExec[w.ExecUUID], w)
		if w.AlertUUID != w.ID {
			fmt.Fprintf(&diff, "alert %s: kibana.alert.uuid %q differs from _id\n", w.ID, w.AlertUUID)
		}
	}
	seenExec := map[string]bool{}
	for i, run := range runs {
		exp := want[i]
		res := run.Result
		seenExec[res.ExecutionUUID] = true
		slotDiff := compareSlot(exp, res, byExec[res.ExecutionUUID])
		if slotDiff != "" {
			fmt.Fprintf(&diff, "slot %d %s (from %s, history %s):\n%s", i, run.Slot.Format(time.RFC3339),
				exp.From.Format("15:04:05.000"), exp.HistoryStart.Format("15:04:05.000"), slotDiff)
		}
	}
	for exec, ws := range byExec {
		if !seenExec[exec] {
			fmt.Fprintf(&diff, "%d alerts with unknown execution uuid %q, e.g. %s %s\n", len(ws), exec, ws[0].ID, canonTerms(ws[0].NewTerms))
		}
	}
	if diff.Len() == 0 {
		return ""
	}
	return fmt.Sprintf("dataset %s\nreproduce: %s\n%s", d.Describe(), reproduce, diff.String())
}

func compareSlot(exp oracle.SlotResult, res detect.Result, got []written) string {
	var diff strings.Builder
	wantByID := map[string]oracle.Alert{}
	for _, a := range exp.Created {
		for _, c := range a.Choices() {
			wantByID[c.AlertID] = a
		}
	}
	position := map[string]int{} // candidate order, for ordering bugs
	for i, a := range exp.Candidates {
		for _, c := range a.Choices() {
			position[c.AlertID] = i
		}
	}
	matched := map[string]bool{}
	var extra []string
	for _, w := range got {
		a, ok := wantByID[w.ID]
		if !ok {
			where := "not a candidate"
			if p, ok := position[w.ID]; ok {
				where = fmt.Sprintf("oracle candidate #%d (first seen %s, %d docs)", p,
					exp.Candidates[p].FirstSeen.Format("15:04:05.000"), exp.Candidates[p].DocCount)
			}
			extra = append(extra, fmt.Sprintf("  unexpected %s terms=%s source=%s/%s: %s", w.ID, canonTerms(w.NewTerms), w.Source.Index, w.Source.ID, where))
			continue
		}
		matched[a.AlertID] = true
		if canonTerms(w.NewTerms) != canonTerms(a.NewTerms) {
			fmt.Fprintf(&diff, "  %s: new_terms %s, want %s\n", w.ID, canonTerms(w.NewTerms), canonTerms(a.NewTerms))
		}
		okSource := false
		for _, c := range a.Choices() {
			if c.AlertID == w.ID && c.Source == w.Source {
				okSource = true
			}
		}
		if !okSource {
			fmt.Fprintf(&diff, "  %s: ancestor %v, want %v\n", w.ID, w.Source, a.Source)
		}
	}
	var missing []string
	for i, a := range exp.Created {
		if !matched[a.AlertID] {
			missing = append(missing, fmt.Sprintf("  missing #%d %s terms=%s source=%s/%s first seen %s, %d docs",
				i, a.AlertID, canonTerms(a.NewTerms), a.Source.Index, a.Source.ID, a.FirstSeen.Format("15:04:05.000"), a.DocCount))
		}
	}
	sort.Strings(extra)
	for _, s := range append(missing, extra...) {
		diff.WriteString(s + "\n")
	}
	if res.AlertsCreated != len(exp.Created) {
		fmt.Fprintf(&diff, "  result: %d alerts created, oracle %d\n", res.AlertsCreated, len(exp.Created))
	}
	warned := false
	for _, w := range res.Warnings {
		if w == detect.MaxSignalsWarning {
			warned = true
		}
	}
	if warned != exp.Truncated {
		fmt.Fprintf(&diff, "  max_signals warning %v, oracle truncated %v (%d candidates, %d duplicates, max %d)\n",
			warned, exp.Truncated, len(exp.Candidates), exp.Duplicates, len(exp.Created))
	}
	return diff.String()
}
