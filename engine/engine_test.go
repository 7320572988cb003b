package engine

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

// emptyES is a fake answering every search as a cluster where no index
// matches; it fails the searches whose body names a time in fail, and holds
// those naming a time in block until the request is cancelled.
func emptyES(fail, block []string) *estest.Transport {
	tr := estest.NewTransport()
	tr.OnFunc("", "/**", func(req estest.Request) estest.Reply {
		for _, t := range block {
			if bytes.Contains(req.Body, []byte(t)) {
				return estest.Hang()
			}
		}
		for _, t := range fail {
			if bytes.Contains(req.Body, []byte(t)) {
				return estest.Error(400, "search_phase_execution_exception", "all shards failed")
			}
		}
		return estest.JSON(200, `{"took":1,"timed_out":false,"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`)
	})
	return tr
}

func testEngine(t *testing.T, f *estest.Transport, cfg Config) *Engine {
	t.Helper()
	cfg.ES = esclient.Config{Addresses: []string{"http://es.test:9200"}, Transport: f, MaxRetries: -1}
	cfg.Clock = time.Now
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

func testRule(t *testing.T) *rule.Rule {
	t.Helper()
	r := rule.Builtin()
	r.Index = []string{"logs-test"}
	require.NoError(t, r.Normalize())
	return r
}

func slots(n int) []time.Time {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
	}
	return out
}

func TestExecuteOneByOneStopsAtFirstFailure(t *testing.T) {
	ss := slots(3)
	f := emptyES([]string{"2026-01-02T03:05:00.000Z"}, nil) // the window end of slot 1
	var summaries []time.Time
	e := testEngine(t, f, Config{Refresh: "true", OnSlot: func(res detect.Result, _ error) { summaries = append(summaries, res.Slot) }})
	var done []time.Time
	err := e.Execute(context.Background(), testRule(t), ss, func(d schedule.SlotDone) error {
		done = append(done, d.Through)
		require.Equal(t, 1, d.Slots)
		return nil
	})
	var se *schedule.SlotError
	require.ErrorAs(t, err, &se)
	require.Equal(t, ss[1], se.Slot)
	require.ErrorContains(t, err, "all shards failed")
	require.Equal(t, ss[:1], done, "the checkpoint stops before the failed slot")
	require.Equal(t, ss[:2], summaries, "one summary per slot run, failed or not")
}

func TestExecuteTimeout(t *testing.T) {
	f := emptyES(nil, []string{"2026-01-02T03:00:00.000Z"})
	e := testEngine(t, f, Config{Timeout: 20 * time.Millisecond})
	err := e.Execute(context.Background(), testRule(t), slots(1), func(schedule.SlotDone) error { return nil })
	require.ErrorIs(t, err, errSlotTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "execution timeout of 20ms")
}

func TestExecuteCatchesUpThroughTheFastPath(t *testing.T) {
	f := emptyES(nil, nil)
	e := testEngine(t, f, Config{FastCatchupSlots: 4})
	var through []time.Time
	total := 0
	err := e.Execute(context.Background(), testRule(t), slots(6), func(d schedule.SlotDone) error {
		through = append(through, d.Through)
		total += d.Slots
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 6, total, "every slot checkpointed")
	require.Equal(t, slots(6)[5], through[len(through)-1])
	require.Less(t, len(f.Requests()), 6*3, "one scan instead of one execution per slot")
}

func TestSpaces(t *testing.T) {
	a, b := testRule(t), testRule(t)
	b.Space = "soc"
	require.Equal(t, []string{"default", "soc"}, Spaces([]*rule.Rule{a, b, a}))
}
