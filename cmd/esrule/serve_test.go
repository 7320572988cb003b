package main

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/schedule"
)

func TestParseSchedules(t *testing.T) {
	r := rule.Builtin()
	tests := []struct {
		name    string
		values  []string
		wantErr string
	}{
		{name: "none"},
		{name: "by rule_id", values: []string{r.RuleID + "=*/10 * * * *"}},
		{name: "descriptor", values: []string{r.RuleID + "=@every 1m"}},
		{name: "no equals", values: []string{"*/5 * * * *"}, wantErr: "want RULE_ID=CRON"},
		{name: "unknown rule", values: []string{"nope=*/5 * * * *"}, wantErr: "no loaded rule"},
		{name: "bad cron", values: []string{r.RuleID + "=*/5 * *"}, wantErr: "parse cron expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSchedules(tt.values, []*rule.Rule{r})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				var ue usageError
				require.True(t, errors.As(err, &ue), "a usage error (exit 2)")
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tt.values))
		})
	}
}

func TestTickOptionsValidate(t *testing.T) {
	ok := tickOptions{engine: engine.Config{StateIndex: "esrule-state", MaxResponseBytes: 1}, sched: schedule.Config{MaxCatchup: time.Hour}, startFrom: "now"}
	now := time.Date(2026, 12, 4, 17, 42, 0, 0, time.UTC)
	start, err := ok.validate(now)
	require.NoError(t, err)
	require.True(t, start.IsZero())

	o := ok
	o.startFrom = "2026-01-02T03:04:05+01:00"
	start, err = o.validate(now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC), start)
	o.startFrom = "now-1d/d"
	start, err = o.validate(now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), start)

	o = ok
	o.sched.MaxCatchup = 0
	_, err = o.validate(now)
	require.NoError(t, err)
	require.Equal(t, schedule.NoCatchupLimit, o.sched.MaxCatchup, "--max-catchup 0 is no limit")

	for name, mutate := range map[string]func(*tickOptions){
		"start-from":     func(o *tickOptions) { o.startFrom = "yesterday" },
		"max-catchup":    func(o *tickOptions) { o.sched.MaxCatchup = -time.Second },
		"lease-ttl":      func(o *tickOptions) { o.sched.LeaseTTL = -time.Second },
		"state-index":    func(o *tickOptions) { o.engine.StateIndex = "" },
		"response bytes": func(o *tickOptions) { o.engine.MaxResponseBytes = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			o := ok
			mutate(&o)
			_, err := o.validate(now)
			var ue usageError
			require.True(t, errors.As(err, &ue), "usage error, got %v", err)
		})
	}
}

func TestOwnerID(t *testing.T) {
	o := tickOptions{}
	a, b := o.ownerID(), o.ownerID()
	require.NotEqual(t, a, b, "a random suffix tells processes apart")
	o.sched.Owner = "pod-1"
	require.Equal(t, "pod-1", o.ownerID())
}
