package randdata

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGenerateIsReproducible(t *testing.T) {
	a, b := Generate(Config{Seed: 7, IndexPrefix: "x"}), Generate(Config{Seed: 7, IndexPrefix: "x"})
	ja, err := json.Marshal(a)
	require.NoError(t, err)
	jb, err := json.Marshal(b)
	require.NoError(t, err)
	require.JSONEq(t, string(ja), string(jb))
	c := Generate(Config{Seed: 8, IndexPrefix: "x"})
	jc, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotEqual(t, string(ja), string(jc))
}

func TestGenerateCoversTheSeedSpace(t *testing.T) {
	fields, modes, small := map[int]bool{}, map[TimestampMode]bool{}, 0
	for seed := uint64(1); seed <= 50; seed++ {
		d := Generate(Config{Seed: seed, IndexPrefix: "x"})
		fields[len(d.Rule.Fields)] = true
		modes[d.Rule.Mode] = true
		if d.Rule.MaxSignals < 100 {
			small++
		}
		require.NotEmpty(t, d.Events)
		require.Len(t, d.Slots, 4)
		require.True(t, d.Rule.History > d.Rule.Lookback)
	}
	require.Len(t, fields, 3)
	require.Len(t, modes, 3)
	require.Equal(t, 10, small)
}

// times returns every timestamp value (both fields) of an event, in epoch ms.
func times(t *testing.T, e Event) []int64 {
	var out []int64
	for _, f := range []string{FieldTimestamp, FieldIngested} {
		for _, v := range Lookup(e.Source, f) {
			switch x := v.(type) {
			case string:
				ts, err := time.Parse(time.RFC3339Nano, x)
				require.NoError(t, err)
				out = append(out, ts.UnixMilli())
			case int64:
				out = append(out, x)
			default:
				t.Fatalf("timestamp %v is a %T", v, v)
			}
		}
	}
	return out
}

func TestTimestampsAreUniqueAndBoundariesPresent(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9} {
		d := Generate(Config{Seed: seed, IndexPrefix: "x"})
		seen := map[int64]string{}
		for _, e := range d.Events {
			for _, ms := range times(t, e) {
				prev, dup := seen[ms]
				require.False(t, dup, "seed %d: %s and %s share %d", seed, prev, e.ID, ms)
				seen[ms] = e.ID
			}
		}
		for _, slot := range d.Slots {
			w := d.Rule.WindowAt(slot)
			for _, at := range []time.Time{w.From, w.To, w.HistoryStart} {
				_, ok := seen[at.UnixMilli()]
				require.True(t, ok, "seed %d: nothing at %s", seed, at)
			}
		}
	}
}

func TestQueryMatches(t *testing.T) {
	tests := []struct {
		src  map[string]any
		want bool
	}{
		{map[string]any{"event": map[string]any{"action": "login"}}, true},
		{map[string]any{"event.action": "login", "user.name": "alice"}, true},
		{map[string]any{"event.action": []any{"logout", "login"}}, true},
		{map[string]any{"event.action": "Login"}, false},
		{map[string]any{"event.action": "login", "user": map[string]any{"name": []any{"bob", "svc-x"}}}, false},
		{map[string]any{"user.name": "alice"}, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, QueryMatches(tt.src), "%v", tt.src)
	}
}

func TestBigDatasets(t *testing.T) {
	d := BigSingle("big")
	distinct := map[any]bool{}
	w := d.Rule.WindowAt(d.Slots[0])
	for _, e := range d.Events {
		ts := times(t, e)[0]
		if QueryMatches(e.Source) && ts >= w.From.UnixMilli() && ts <= w.To.UnixMilli() {
			distinct[Lookup(e.Source, FieldUserName)[0]] = true
		}
	}
	require.Greater(t, len(distinct), 10000)
	m := BigMulti("big")
	require.NotEmpty(t, m.Events)
	require.Len(t, Ties("t").Events, 2)
}

func TestGenerateWithOnlyABooleanField(t *testing.T) {
	d := Generate(Config{Seed: 101, IndexPrefix: "x", Fields: []string{FieldSuccess}})
	require.NotEmpty(t, d.Events)
}
