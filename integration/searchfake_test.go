//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/backfill"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/esclient"
	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/internal/estest"
	"github.com/esrule/esrule/internal/randdata"
)

// teeSearcher sends every search to Elasticsearch and to the search fake,
// answers with Elasticsearch's response and records where the fake's
// differs.
type teeSearcher struct {
	es   *esclient.Client
	fake *estest.SearchFake

	mu       sync.Mutex
	searches int
	diffs    []string
}

func (s *teeSearcher) Search(ctx context.Context, indices []string, body []byte, paths []string) (esquery.Response, error) {
	want, err := s.es.Search(ctx, indices, body, paths)
	if err != nil {
		return want, err
	}
	got, ferr := s.fake.Search(ctx, indices, body, paths)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searches++
	switch {
	case ferr != nil:
		s.diffs = append(s.diffs, fmt.Sprintf("fake failed: %v\nrequest %s", ferr, body))
	case got.TotalHits != want.TotalHits || got.Shards != want.Shards:
		s.diffs = append(s.diffs, fmt.Sprintf("hits %d shards %d, elasticsearch %d and %d\nrequest %s", got.TotalHits, got.Shards, want.TotalHits, want.Shards, body))
	default:
		a, b := canonJSON(got.Aggregations), canonJSON(want.Aggregations)
		if !reflect.DeepEqual(a, b) {
			ga, _ := json.Marshal(a)
			wa, _ := json.Marshal(b)
			s.diffs = append(s.diffs, fmt.Sprintf("request %s filter_path %v\nfake          %.3000s\nelasticsearch %.3000s", body, paths, ga, wa))
		}
	}
	return want, nil
}

// canonJSON decodes raw JSON with every number as float64 (Elasticsearch
// writes 1.7724456E12 where the fake writes 1772445600000); nil for none.
func canonJSON(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
		return "undecodable: " + string(raw)
	}
	return v
}

// TestIntegrationSearchFakeAgreesWithElasticsearch runs backfills (fast path
// in two shapes and replay) and executions with tiny pages over randomized
// datasets against Elasticsearch while sending every search to the kit's
// search fake as well: the fake
// must return the same aggregations for every request, so that unit tests
// built on it test what Elasticsearch would do.
func TestIntegrationSearchFakeAgreesWithElasticsearch(t *testing.T) {
	t.Parallel()
	env := newExecEnv(t)
	client := newEngine(t, engine.Config{}).Client()
	configs := []randdata.Config{
		{Seed: 1}, {Seed: 2}, {Seed: 3}, {Seed: 5},
		{Seed: 201, Fields: []string{randdata.FieldSuccess}},
		{Seed: 202, Fields: []string{randdata.FieldSourceIP}},
		{Seed: 204, Fields: []string{randdata.FieldUserName, randdata.FieldUserID, randdata.FieldSuccess}},
		{Seed: 205, Fields: []string{randdata.FieldSourceIP, randdata.FieldHostName, randdata.FieldUserID}, Mode: randdata.ModeOverrideFallback},
		{Seed: 207, Fields: []string{randdata.FieldUserName}, Mode: randdata.ModeOverrideNoFallback, MaxSignals: 2},
	}
	datasets := make([]randdata.Dataset, len(configs))
	for i, cfg := range configs {
		cfg.Slots = 10
		cfg.IndexPrefix = uniqueName(t, fmt.Sprintf("fake-s%d", cfg.Seed))
		datasets[i] = randdata.Generate(cfg)
	}
	installAll(t, env, datasets)
	total := 0
	for _, d := range datasets {
		fake := estest.NewSearchFake(estest.MappingOf(randdata.IndexBody(1)))
		for name, shards := range d.Indices {
			fake.CreateIndex(name, shards)
		}
		for _, e := range d.Events {
			require.NoError(t, fake.Add(estest.Doc{Index: e.Index, ID: e.ID, Source: e.Source}))
		}
		tee := &teeSearcher{es: client, fake: fake}
		from, to := rangeOf(t, d)
		prefix := strings.TrimSuffix(d.Pattern, "-*")
		for _, c := range []struct {
			name string
			opts backfill.Options
		}{
			{"fast", backfill.Options{}},
			{"narrow", backfill.Options{Width: time.Minute, PageSize: 7, FetchBatch: 3, ScanWorkers: 3}},
			{"replay", backfill.Options{Replay: true}},
		} {
			ex := *env.ex
			ex.Searcher = tee
			deps := backfill.Deps{
				Searcher: tee, Executor: &ex,
				Alerts: alerts.NewWriter(client, alerts.WriterConfig{Alias: env.alias}),
				Refresh: func(ctx context.Context) error {
					_, err := esclient.Call(ctx, client, esapi.IndicesRefreshRequest{Index: []string{env.alias}})
					return err
				},
			}
			o := c.opts
			o.From, o.To = from, to
			_, err := backfill.Run(context.Background(), deps, ruleFor(t, d, env.space, prefix+"-"+c.name), o)
			require.NoError(t, err, "%s: %s", c.name, d.Describe())
		}
		// The executor alone with tiny pages and batches: after keys in
		// every phase, halved batches, the multi-field history pages.
		ex := *env.ex
		ex.Searcher = tee
		ex.Config = detect.Config{PageSize: 3, BatchSize: 2, HistoryPageSize: 2}
		r := ruleFor(t, d, env.space, prefix+"-small")
		for _, slot := range d.Slots {
			_, err := ex.Run(context.Background(), r, slot, detect.RunOptions{DryRun: true})
			require.NoError(t, err, d.Describe())
		}
		for i, diff := range tee.diffs {
			if i == 5 {
				t.Errorf("seed %d: %d more differences", d.Seed, len(tee.diffs)-i)
				break
			}
			t.Errorf("seed %d: %s", d.Seed, diff)
		}
		total += tee.searches
	}
	t.Logf("%d searches compared", total)
	require.Positive(t, total)
}
