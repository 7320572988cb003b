//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/internal/randdata"
	"github.com/esrule/esrule/schedule"
)

// The scheduler's catch-up through the fast path (engine.Engine.Execute):
// the same alerts as slot-by-slot execution, progress reported in order up
// to the last slot.
func TestIntegrationBackfillCatchup(t *testing.T) {
	t.Parallel()
	env := newBackfillEnv(t)
	d := randdata.Generate(randdata.Config{Seed: 401, Slots: 14, IndexPrefix: uniqueName(t, "bf-catchup")})
	installAll(t, env.execEnv, []randdata.Dataset{d})
	soID := strings.TrimSuffix(d.Pattern, "-*")
	r := ruleFor(t, d, env.space, soID)
	want := oracleFor(t, d, env.space, soID)

	eng := env.engine(t, engine.Config{FastCatchupSlots: 4})
	var through []time.Time
	total := 0
	err := eng.Execute(context.Background(), r, d.Slots, func(sd schedule.SlotDone) error {
		through = append(through, sd.Through)
		total += sd.Slots
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, len(d.Slots), total)
	require.Equal(t, d.Slots[len(d.Slots)-1], through[len(through)-1])
	for i := 1; i < len(through); i++ {
		require.True(t, through[i].After(through[i-1]), "progress in slot order")
	}
	got := readAlerts(t, env.c, env.alias, soID)
	if diff := compareBackfill(want, got, env.space, soID); diff != "" {
		t.Fatalf("catch-up differs from the oracle (%s)\n%s", d.Describe(), diff)
	}
}
