package randdata

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// testAlertID stands in for the alert-id hash: the counts need only distinct ids.
func testAlertID(index, id, _, _ string, terms []any) string { return fmt.Sprint(index, id, terms) }

// TestDatasetsExerciseTheRule checks that the seeds used by the integration
// tests produce what they are meant to: alerts, truncated slots, duplicates
// across slots and new terms first seen right after from.
func TestDatasetsExerciseTheRule(t *testing.T) {
	var alerts, truncated, duplicates, atFromPlus1, multi int
	for seed := uint64(1); seed <= 50; seed++ {
		d := Generate(Config{Seed: seed, IndexPrefix: "x"})
		res, err := d.Oracle("default", "r", testAlertID)
		require.NoError(t, err, "seed %d", seed)
		for _, r := range res {
			alerts += len(r.Created)
			duplicates += r.Duplicates
			if r.Truncated {
				truncated++
			}
			for _, a := range r.Candidates {
				if a.FirstSeen.Equal(r.From.Add(1e6)) {
					atFromPlus1++
				}
				if len(a.NewTerms) > 1 {
					multi++
				}
			}
		}
	}
	t.Logf("alerts=%d truncated slots=%d duplicates=%d first seen at from+1ms=%d multi-field candidates=%d",
		alerts, truncated, duplicates, atFromPlus1, multi)
	require.Greater(t, alerts, 500)
	require.Greater(t, truncated, 10)
	require.Greater(t, duplicates, 100)
	require.Greater(t, atFromPlus1, 5)

	for _, d := range []Dataset{BigSingle("b"), BigMulti("m")} {
		res, err := d.Oracle("default", "r", testAlertID)
		require.NoError(t, err)
		for _, r := range res {
			t.Logf("%s slot %s: candidates=%d created=%d duplicates=%d truncated=%v",
				d.Rule.Fields, r.Slot.Format("15:04"), len(r.Candidates), len(r.Created), r.Duplicates, r.Truncated)
			require.True(t, r.Truncated)
			require.Len(t, r.Created, d.Rule.MaxSignals)
		}
	}
}
