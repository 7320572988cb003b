package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testEnd = time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{Seed: 42, End: testEnd, Days: 8, Users: 60, Scenarios: true}
}

// digest generates cfg and hashes every document (index, id, body).
func digest(t *testing.T, cfg Config) ([32]byte, int) {
	t.Helper()
	g, err := New(cfg)
	require.NoError(t, err)
	h := sha256.New()
	n := 0
	require.NoError(t, g.Each(func(d Doc) error {
		h.Write([]byte(d.Index))
		h.Write([]byte(d.ID))
		h.Write(d.Body)
		n++
		return nil
	}))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := testConfig()
	a, n := digest(t, cfg)
	b, m := digest(t, cfg)
	require.Equal(t, a, b, "same seed must give the same bytes")
	require.Equal(t, n, m)
	require.Greater(t, n, 1000)

	cfg.Seed = 43
	c, _ := digest(t, cfg)
	require.NotEqual(t, a, c, "another seed must give other documents")

	fb := testConfig()
	fb.Filebeat = true
	d1, _ := digest(t, fb)
	d2, _ := digest(t, fb)
	require.Equal(t, d1, d2)
}

func TestCountMatchesEach(t *testing.T) {
	g, err := New(testConfig())
	require.NoError(t, err)
	n, err := g.Count()
	require.NoError(t, err)
	_, m := digest(t, testConfig())
	require.Equal(t, m, n)
}

func TestDocumentsAreValidAndInPeriod(t *testing.T) {
	for _, filebeat := range []bool{false, true} {
		t.Run(map[bool]string{false: "agent", true: "filebeat"}[filebeat], func(t *testing.T) {
			cfg := testConfig()
			cfg.Filebeat = filebeat
			g, err := New(cfg)
			require.NoError(t, err)
			start := cfg.Start()
			ids := map[string]bool{}
			proxy := map[string]int{}
			types := map[string]int{}
			late := 0
			require.NoError(t, g.Each(func(d Doc) error {
				require.True(t, json.Valid(d.Body), "invalid JSON: %s", d.Body)
				require.False(t, ids[d.ID], "duplicate _id %s", d.ID)
				ids[d.ID] = true
				var doc map[string]any
				require.NoError(t, json.Unmarshal(d.Body, &doc))
				ev := doc["event"].(map[string]any)
				published, err := time.Parse(time.RFC3339Nano, doc["@timestamp"].(string))
				require.NoError(t, err)
				ingested, err := time.Parse(time.RFC3339Nano, ev["ingested"].(string))
				require.NoError(t, err)
				require.False(t, published.Before(start))
				require.True(t, ingested.Before(testEnd))
				require.True(t, ingested.After(published), "ingested after published: %s", d.Body)
				if ingested.Sub(published) > 10*time.Minute {
					late++
				}
				require.Equal(t, "okta.system", ev["dataset"])
				require.Equal(t, d.ID, ev["id"])
				okta := doc["okta"].(map[string]any)
				require.Equal(t, d.ID, okta["uuid"])
				types[okta["event_type"].(string)]++
				if filebeat {
					require.NotContains(t, doc, "data_stream")
					require.Equal(t, "okta", ev["module"])
					require.Regexp(t, `^filebeat-8\.19\.0-\d{4}\.\d{2}\.\d{2}$`, d.Index)
				} else {
					require.Equal(t, "logs-okta.system-default", d.Index)
					require.Equal(t, "okta.system", doc["data_stream"].(map[string]any)["dataset"])
				}
				sc, ok := okta["security_context"].(map[string]any)
				switch {
				case !ok:
					proxy["no security_context"]++
				default:
					v, present := sc["is_proxy"]
					switch {
					case !present:
						proxy["absent"]++
					case v == nil:
						proxy["null"]++
					case v == true:
						proxy["true"]++
					case v == false:
						proxy["false"]++
					}
				}
				return nil
			}))
			require.Positive(t, proxy["true"])
			require.Positive(t, proxy["false"])
			if filebeat {
				require.Positive(t, proxy["null"], "Filebeat shape writes is_proxy: null")
				require.Zero(t, proxy["absent"])
			} else {
				require.Positive(t, proxy["absent"], "Agent shape drops null is_proxy")
				require.Zero(t, proxy["null"])
			}
			for _, typ := range []string{"user.session.start", "user.authentication.verify", "user.authentication.sso",
				"policy.evaluate_sign_on", "user.session.end", "app.user_management.push_profile", "user.mfa.factor.reset_all"} {
				require.Positive(t, types[typ], typ)
			}
			require.Positive(t, late, "some events arrive late")
			t.Logf("docs=%d is_proxy=%v late=%d", len(ids), proxy, late)
		})
	}
}

func TestLeanDocumentsKeepRuleFields(t *testing.T) {
	cfg := testConfig()
	full, nFull := digest(t, cfg)
	cfg.Lean = true
	lean, nLean := digest(t, cfg)
	require.NotEqual(t, full, lean)
	require.Equal(t, nFull, nLean)

	sizes := map[bool]int{}
	for _, l := range []bool{false, true} {
		c := testConfig()
		c.Lean = l
		g, err := New(c)
		require.NoError(t, err)
		require.NoError(t, g.Each(func(d Doc) error {
			sizes[l] += len(d.Body)
			if l {
				require.NotContains(t, string(d.Body), "debug_context")
				require.NotContains(t, string(d.Body), "ip_chain")
			}
			return nil
		}))
	}
	require.Less(t, sizes[true]*10, sizes[false]*6, "lean documents are under 60% of the size")
	t.Logf("bytes/doc: full %d, lean %d", sizes[false]/nFull, sizes[true]/nLean)
}

func TestActorIDsLookLikeOkta(t *testing.T) {
	g, err := New(testConfig())
	require.NoError(t, err)
	prefixes := map[string]int{}
	require.NoError(t, g.Each(func(d Doc) error {
		var doc struct {
			Okta struct {
				Actor struct{ ID, Type string }
			}
		}
		require.NoError(t, json.Unmarshal(d.Body, &doc))
		id := doc.Okta.Actor.ID
		require.Len(t, id, 20, id)
		prefixes[id[:3]+"/"+doc.Okta.Actor.Type]++
		return nil
	}))
	require.Positive(t, prefixes["00u/User"])
	require.Positive(t, prefixes["spr/SystemPrincipal"])
	require.Positive(t, prefixes["okt/SystemPrincipal"])
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no end", Config{}, "End is required"},
		{"too many days", Config{End: testEnd, Days: 400}, "Days 400"},
		{"scenarios need days", Config{End: testEnd, Days: 2, Scenarios: true}, "at least 3 days"},
		{"bad namespace", Config{End: testEnd, Namespace: "A/b"}, "Namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestJSONStringEscaping(t *testing.T) {
	got := appendJSONString(nil, "a\"b\\c\n\x01é")
	var s string
	require.NoError(t, json.Unmarshal(got, &s))
	require.Equal(t, "a\"b\\c\n\x01é", s)
	require.True(t, bytes.HasPrefix(got, []byte(`"a\"b`)))
}

func TestEachStopsAtFirstError(t *testing.T) {
	g, err := New(testConfig())
	require.NoError(t, err)
	stop := errors.New("stop")
	n := 0
	err = g.Each(func(Doc) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 10, n)
}

func TestIndicesCoverEveryDocument(t *testing.T) {
	cfg := testConfig()
	cfg.Filebeat = true
	cfg.FilebeatPrefix = "filebeat-test"
	g, err := New(cfg)
	require.NoError(t, err)
	indices := map[string]bool{}
	for _, name := range g.Indices() {
		indices[name] = true
	}
	require.Len(t, indices, 9, "8 days ending at 17:00 touch 9 calendar days")
	require.NoError(t, g.Each(func(d Doc) error {
		require.True(t, indices[d.Index], d.Index)
		return nil
	}))
}

func TestEachParallelGivesTheSameDocuments(t *testing.T) {
	g, err := New(testConfig())
	require.NoError(t, err)
	sequential := map[string]string{}
	require.NoError(t, g.Each(func(d Doc) error {
		sequential[d.ID] = d.Index + string(d.Body)
		return nil
	}))
	var mu sync.Mutex
	parallel := map[string]string{}
	require.NoError(t, g.EachParallel(3, func(d Doc) error {
		mu.Lock()
		defer mu.Unlock()
		parallel[d.ID] = d.Index + string(d.Body)
		return nil
	}))
	require.Equal(t, sequential, parallel)

	stop := errors.New("stop")
	var calls atomic.Int64
	err = g.EachParallel(3, func(Doc) error {
		if calls.Add(1) == 5 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
}
