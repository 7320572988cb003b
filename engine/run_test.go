package engine

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

func TestRunSlotsRunsEveryRuleAndCountsFailures(t *testing.T) {
	ss := slots(2)
	f := emptyES([]string{"2026-01-02T03:05:00.000Z"}, nil) // the window end of the second slot
	e := testEngine(t, f, Config{})
	r := testRule(t)
	var reported []time.Time
	err := e.RunSlots(context.Background(), []*rule.Rule{r, r}, ss, SlotOptions{
		DryRun: true,
		Report: func(_ *rule.Rule, res detect.Result, _ error) error {
			reported = append(reported, res.Slot)
			return nil
		},
	})
	require.EqualError(t, err, "1 of 2 rule executions failed")
	require.Equal(t, ss, reported, "the execution after a failed one still runs and is reported")

	stop := errors.New("stdout closed")
	err = e.RunSlots(context.Background(), []*rule.Rule{r, r}, ss, SlotOptions{
		DryRun: true,
		Report: func(*rule.Rule, detect.Result, error) error { return stop },
	})
	require.ErrorIs(t, err, stop, "a report that fails stops the run")
}

func TestBackfillRulesReportsEveryRule(t *testing.T) {
	e := testEngine(t, emptyES(nil, nil), Config{})
	r := testRule(t)
	ss := slots(4)
	var summaries []backfill.Summary
	err := e.BackfillRules(context.Background(), []*rule.Rule{r}, BackfillOptions{
		Options: backfill.Options{From: ss[0], To: ss[3], DryRun: true},
		Report: func(s backfill.Summary, err error) error {
			require.NoError(t, err)
			summaries = append(summaries, s)
			return nil
		},
	})
	require.NoError(t, err)
	require.Len(t, summaries, 1)
	require.Equal(t, 3, summaries[0].SlotsDone)
}

func TestServeRefusesWithoutMetrics(t *testing.T) {
	e := testEngine(t, emptyES(nil, nil), Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = e.Serve(context.Background(), ServeOptions{Schedule: schedule.Config{Rules: []*rule.Rule{testRule(t)}}, Listener: ln})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce, "serve needs the metrics of its endpoints")
	_, err = net.Dial("tcp", ln.Addr().String())
	require.Error(t, err, "the listener is closed")
}
