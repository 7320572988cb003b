package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
)

// allRecords drains a sorter.
func allRecords(t *testing.T, s *sorter) []record {
	t.Helper()
	src, err := s.records()
	require.NoError(t, err)
	var out []record
	for {
		rc, ok, err := src.next()
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, rc)
	}
}

// The external sort returns what a stable sort by slot of the partitions'
// records joined in partition order returns, whether it spills or not, with
// keys of every type intact.
func TestSorterOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	keys := []esquery.Key{
		{"alice"}, {`quo"te\\`}, {json.Number("18446744073709551615")}, {json.Number("-3")},
		{true}, {"b", json.Number("2"), false}, {"ünï"},
	}
	const parts = 5
	byPart := make([][]record, parts)
	for p := range byPart {
		for range 200 + rng.IntN(300) {
			byPart[p] = append(byPart[p], record{slot: int32(rng.IntN(40)), x: rng.Int64N(1 << 40), key: keys[rng.IntN(len(keys))]})
		}
	}
	var want []record
	for _, recs := range byPart {
		want = append(want, recs...)
	}
	slices.SortStableFunc(want, func(a, b record) int { return int(a.slot) - int(b.slot) })
	for _, runRecords := range []int{1, 7, 100, 1 << 20} {
		t.Run(fmt.Sprint(runRecords), func(t *testing.T) {
			s := newSorter(t.TempDir(), runRecords)
			defer s.close()
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				errs []error
			)
			for p, recs := range byPart {
				wg.Go(func() {
					for i := 0; i < len(recs); i += 13 { // pages
						if err := s.add(p, int64(i), recs[i:min(i+13, len(recs))]); err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			require.NoError(t, errors.Join(errs...))
			require.Equal(t, int64(len(want)), s.len())
			require.Equal(t, want, allRecords(t, s))
			if runRecords < len(want) {
				require.NotEmpty(t, s.runs, "spilled")
			}
		})
	}
}
