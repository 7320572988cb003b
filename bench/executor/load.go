package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/esrule/esrule/bench/internal/benchkit"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/esrule/esrule/internal/randdata"
)

// benchMeta is stored in the bench index's mapping _meta once loading completed.
type benchMeta struct {
	Complete bool                `json:"complete"`
	Config   randdata.OktaConfig `json:"config"`
}

// indexName names the bench index by its parameters, so a later run with the
// same parameters reuses it.
func indexName(cfg randdata.OktaConfig, shards int) string {
	return fmt.Sprintf("esrule-bench-okta-e%d-a%d-d%d-n%d-s%d-p%d-v1", cfg.Events, cfg.Actors, cfg.Days, cfg.NewActors, cfg.Seed, shards)
}

// ensureData loads the bench index unless a complete one with the same
// parameters exists. It returns whether it loaded and how long that took.
func ensureData(ctx context.Context, c *elasticsearch.Client, index string, cfg randdata.OktaConfig, shards int, reload bool) (bool, time.Duration, error) {
	if !reload {
		done, err := loaded(ctx, c, index, cfg)
		if err != nil {
			return false, 0, err
		}
		if done {
			return false, 0, nil
		}
	}
	start := time.Now()
	if err := deleteIndex(ctx, c, index); err != nil {
		return false, 0, err
	}
	if err := randdata.CreateIndex(ctx, c, index, randdata.OktaIndexBody(shards)); err != nil {
		return false, 0, err
	}
	if err := bulkLoad(ctx, c, index, cfg); err != nil {
		return false, 0, err
	}
	settings := `{"index":{"refresh_interval":null}}`
	if err := benchkit.Call(ctx, c, "PUT", "/"+index+"/_settings", settings); err != nil {
		return false, 0, err
	}
	if err := benchkit.Call(ctx, c, "POST", "/"+index+"/_refresh", ""); err != nil {
		return false, 0, err
	}
	meta, err := json.Marshal(map[string]any{"_meta": map[string]any{"esrule_bench": benchMeta{Complete: true, Config: cfg}}})
	if err != nil {
		return false, 0, fmt.Errorf("encode bench meta: %w", err)
	}
	if err := benchkit.Call(ctx, c, "PUT", "/"+index+"/_mapping", string(meta)); err != nil {
		return false, 0, err
	}
	return true, time.Since(start), nil
}

// loaded reports whether index exists with a complete load of cfg.
func loaded(ctx context.Context, c *elasticsearch.Client, index string, cfg randdata.OktaConfig) (bool, error) {
	res, err := c.Indices.GetMapping(c.Indices.GetMapping.WithContext(ctx), c.Indices.GetMapping.WithIndex(index))
	if err != nil {
		return false, fmt.Errorf("get mapping of %s: %w", index, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return false, nil
	}
	if res.IsError() {
		b, _ := io.ReadAll(res.Body)
		return false, fmt.Errorf("get mapping of %s: %s: %s", index, res.Status(), b)
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
	return meta.Complete && meta.Config == cfg, nil
}

// bulkLoad streams the generated events into index with esutil.BulkIndexer.
func bulkLoad(ctx context.Context, c *elasticsearch.Client, index string, cfg randdata.OktaConfig) error {
	var failed atomic.Int64
	var firstErr atomic.Value
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client: c, Index: index, NumWorkers: 2, FlushBytes: 8 << 20, FlushInterval: 30 * time.Second,
		OnError: func(_ context.Context, err error) { firstErr.CompareAndSwap(nil, err.Error()) },
	})
	if err != nil {
		return fmt.Errorf("create bulk indexer: %w", err)
	}
	total := cfg.Total()
	start := time.Now()
	var n int
	err = cfg.Each(func(id string, src []byte) error {
		n++
		if n%200000 == 0 {
			fmt.Fprintf(os.Stderr, "loaded %d/%d events (%.0f/s)\n", n, total, float64(n)/time.Since(start).Seconds())
		}
		return bi.Add(ctx, esutil.BulkIndexerItem{
			Action: "index", DocumentID: id, Body: bytes.NewReader(src),
			OnFailure: func(_ context.Context, item esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %s", res.Error.Type, res.Error.Reason))
				}
			},
		})
	})
	if cerr := bi.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", index, err)
	}
	if f := failed.Load(); f > 0 || firstErr.Load() != nil {
		return fmt.Errorf("load %s: %d documents failed, first: %v", index, f, firstErr.Load())
	}
	st := bi.Stats()
	fmt.Fprintf(os.Stderr, "loaded %d events into %s in %s\n", st.NumIndexed, index, time.Since(start).Round(time.Second))
	return nil
}

func deleteIndex(ctx context.Context, c *elasticsearch.Client, index string) error {
	res, err := c.Indices.Delete([]string{index}, c.Indices.Delete.WithContext(ctx), c.Indices.Delete.WithIgnoreUnavailable(true))
	if err != nil {
		return fmt.Errorf("delete %s: %w", index, err)
	}
	defer res.Body.Close()
	if res.IsError() && res.StatusCode != 404 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("delete %s: %s: %s", index, res.Status(), b)
	}
	return nil
}
