package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/esrule/esrule/bench/internal/benchkit"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/esrule/esrule/internal/randdata"
)

// dataConfig describes the bench data: Okta-shaped session events over
// [End - Days - history - 1h, End], every actor active from its own start
// time, activity skewed (a few busy actors, many rare ones, whose returns
// after more than 7 days are new terms again).
type dataConfig struct {
	Seed   uint64    `json:"seed"`
	Events int       `json:"events"`
	Actors int       `json:"actors"`
	Days   int       `json:"days"` // backfill days; the data adds the 7-day history
	End    time.Time `json:"end"`
	// Arrivals is the share of actors that first appear at a random time of
	// the range (the others are active from its start): 1 makes almost every
	// actor a new term inside the backfill range, small values model a
	// stable population.
	Arrivals float64 `json:"arrivals"`
}

const historyDays = 7

func (c dataConfig) start() time.Time {
	return c.End.Add(-time.Duration(c.Days+historyDays)*24*time.Hour - time.Hour)
}

func (c dataConfig) index(shards int) string {
	name := fmt.Sprintf("esrule-bench-bf-okta-e%d-a%d-d%d-s%d-p%d-v1", c.Events, c.Actors, c.Days, c.Seed, shards)
	if c.Arrivals != 1 {
		name += fmt.Sprintf("-r%g", c.Arrivals)
	}
	return name
}

// each generates the events (id, JSON source) in a reproducible order.
func (c dataConfig) each(fn func(id string, src []byte) error) error {
	rng := rand.New(rand.NewPCG(c.Seed, 0x62666c6c))
	start := c.start()
	span := c.End.Sub(start).Milliseconds()
	var buf bytes.Buffer
	for i := range c.Events {
		actor := int(float64(c.Actors) * math.Pow(rng.Float64(), 2))
		// Each actor appears from its own start time (spread over the range).
		h := uint64(actor)*0x9e3779b97f4a7c15 + 1
		h ^= h >> 31
		var first int64
		if float64((h>>20)%1_000_000)/1_000_000 < c.Arrivals {
			first = int64(float64(span) * 0.95 * float64(h%1_000_000) / 1_000_000)
		}
		ts := start.Add(time.Duration(first+rng.Int64N(span-first)) * time.Millisecond)
		actorID := randdata.OktaActorID(actor)
		if rng.Float64() < 0.01 {
			actorID = "oktaSystem"
		}
		proxy := rng.Float64() < 0.9
		ip := fmt.Sprintf("198.51.%d.%d", rng.IntN(256), 1+rng.IntN(254))
		buf.Reset()
		fmt.Fprintf(&buf, `{"@timestamp":%q,"event":{"dataset":"okta.system","action":"user.session.start","id":"e%d"`,
			ts.UTC().Format("2006-01-02T15:04:05.000Z"), i)
		if rng.Float64() < 0.97 {
			fmt.Fprintf(&buf, `,"ingested":%q`, ts.Add(time.Duration(500+rng.IntN(90000))*time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		fmt.Fprintf(&buf, `},"okta":{"event_type":"user.session.start","actor":{"id":%q,"type":"User","alternate_id":"user%d@example.com"},`+
			`"security_context":{"is_proxy":%t},"client":{"ip":%q}},"source":{"ip":%q},"user":{"name":"user%d@example.com"}}`,
			actorID, actor, proxy, ip, ip, actor)
		if err := fn(fmt.Sprintf("e%d", i), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

type benchMeta struct {
	Complete bool       `json:"complete"`
	Config   dataConfig `json:"config"`
}

// ensureData loads the bench index unless a complete one with the same
// parameters exists (the index is named by its parameters).
func ensureData(ctx context.Context, c *elasticsearch.Client, cfg dataConfig, shards int, reload bool, log io.Writer) (bool, time.Duration, error) {
	index := cfg.index(shards)
	if !reload {
		ok, err := loaded(ctx, c, index, cfg)
		if err != nil || ok {
			return false, 0, err
		}
	}
	start := time.Now()
	_ = benchkit.Call(ctx, c, "DELETE", "/"+index+"?ignore_unavailable=true", "")
	if err := randdata.CreateIndex(ctx, c, index, randdata.OktaIndexBody(shards)); err != nil {
		return false, 0, err
	}
	if err := bulkLoad(ctx, c, index, cfg, log); err != nil {
		return false, 0, err
	}
	for _, step := range []struct{ method, path, body string }{
		{"PUT", "/" + index + "/_settings", `{"index":{"refresh_interval":null}}`},
		{"POST", "/" + index + "/_refresh", ""},
		{"POST", "/" + index + "/_forcemerge?max_num_segments=1", ""},
	} {
		if err := benchkit.Call(ctx, c, step.method, step.path, step.body); err != nil {
			return false, 0, err
		}
	}
	meta, err := json.Marshal(map[string]any{"_meta": map[string]any{"esrule_bench": benchMeta{Complete: true, Config: cfg}}})
	if err != nil {
		return false, 0, err
	}
	if err := benchkit.Call(ctx, c, "PUT", "/"+index+"/_mapping", string(meta)); err != nil {
		return false, 0, err
	}
	return true, time.Since(start), nil
}

func loaded(ctx context.Context, c *elasticsearch.Client, index string, cfg dataConfig) (bool, error) {
	res, err := c.Indices.GetMapping(c.Indices.GetMapping.WithContext(ctx), c.Indices.GetMapping.WithIndex(index))
	if err != nil {
		return false, fmt.Errorf("get mapping of %s: %w", index, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return false, nil
	}
	var m map[string]struct {
		Mappings struct {
			Meta struct {
				Bench benchMeta `json:"esrule_bench"`
			} `json:"_meta"`
		} `json:"mappings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return false, fmt.Errorf("decode mapping of %s: %w", index, err)
	}
	meta := m[index].Mappings.Meta.Bench
	return meta.Complete && meta.Config.Events == cfg.Events && meta.Config.Actors == cfg.Actors &&
		meta.Config.Days == cfg.Days && meta.Config.Seed == cfg.Seed && meta.Config.End.Equal(cfg.End) &&
		(meta.Config.Arrivals == cfg.Arrivals || (meta.Config.Arrivals == 0 && cfg.Arrivals == 1)), nil
}

func bulkLoad(ctx context.Context, c *elasticsearch.Client, index string, cfg dataConfig, log io.Writer) error {
	var failed atomic.Int64
	var firstErr atomic.Value
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client: c, Index: index, NumWorkers: 2, FlushBytes: 8 << 20, FlushInterval: 30 * time.Second,
		OnError: func(_ context.Context, err error) { firstErr.CompareAndSwap(nil, err.Error()) },
	})
	if err != nil {
		return fmt.Errorf("create bulk indexer: %w", err)
	}
	start := time.Now()
	n := 0
	err = cfg.each(func(id string, src []byte) error {
		n++
		if n%250000 == 0 {
			fmt.Fprintf(log, "loaded %d/%d events (%.0f/s)\n", n, cfg.Events, float64(n)/time.Since(start).Seconds())
		}
		return bi.Add(ctx, esutil.BulkIndexerItem{
			Action: "index", DocumentID: id, Body: bytes.NewReader(bytes.Clone(src)),
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					firstErr.CompareAndSwap(nil, res.Error.Type+": "+res.Error.Reason)
				}
			},
		})
	})
	if cerr := bi.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", index, err)
	}
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("load %s: %d documents failed, first: %v", index, f, firstErr.Load())
	}
	return nil
}
