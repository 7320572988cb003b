//go:build integration

// Package integration holds tests against a real Elasticsearch started by
// scripts/elasticsearch.sh. The URL comes from ESRULE_TEST_ES_URL. When CI=true
// and Elasticsearch is unreachable, the tests fail; they never skip.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/esrule/esrule/engine"
)

// esURL is the Elasticsearch under test.
var esURL = func() string {
	if u := os.Getenv("ESRULE_TEST_ES_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:9250"
}()

func TestMain(m *testing.M) {
	if err := waitForES(time.Minute); err != nil {
		fmt.Fprintf(os.Stderr, "integration: Elasticsearch at %s is not reachable: %v\n", esURL, err)
		fmt.Fprintln(os.Stderr, "integration: start it with scripts/elasticsearch.sh start and set ESRULE_TEST_ES_URL")
		os.Exit(1)
	}
	// The binary builds while the first tests run; the tests that run it wait for it.
	go func() { _, _ = buildBinary() }()
	code := m.Run()
	removeBinary()
	os.Exit(code)
}

// waitForES waits until Elasticsearch answers a yellow cluster health; it
// gives up when the answer has not changed for stall.
func waitForES(stall time.Duration) error {
	last, ok := pollUntil(stall, func() (bool, string) {
		res, err := http.Get(esURL + "/_cluster/health?wait_for_status=yellow&timeout=5s")
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, fmt.Sprintf("status %d", res.StatusCode)
	})
	if !ok {
		return errors.New(last)
	}
	return nil
}

// newClient returns a client for the Elasticsearch under test.
func newClient(t testing.TB) *elasticsearch.Client {
	t.Helper()
	c, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c
}

// newEngine assembles esrule's engine against the Elasticsearch under test
// (cfg.ES.Addresses when set), with the wall clock.
func newEngine(t testing.TB, cfg engine.Config) *engine.Engine {
	t.Helper()
	if len(cfg.ES.Addresses) == 0 {
		cfg.ES.Addresses = []string{esURL}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatalf("assemble engine: %v", err)
	}
	return e
}

// uniqueName returns a lower-case name unique to this test run, starting with
// prefix, suitable for index names. Indices matching it are deleted at cleanup.
func uniqueName(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.ToLower(prefix + "-" + hex.EncodeToString(b))
	t.Cleanup(func() {
		c := newClient(t)
		res, err := c.Indices.Delete([]string{name + "*"}, c.Indices.Delete.WithContext(context.Background()))
		if err == nil {
			res.Body.Close()
		}
	})
	return name
}

// waitActive waits until the primaries of indices (names, aliases or
// patterns) are started. Elasticsearch acknowledges an index creation after
// a timeout even when its primary has not started yet, which happens on a
// loaded test machine; a search then fails (no shard available).
func waitActive(t testing.TB, c *elasticsearch.Client, indices ...string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("primaries of %v started", indices), func() (bool, string) {
		res, err := c.Cluster.Health(c.Cluster.Health.WithIndex(indices...), c.Cluster.Health.WithWaitForStatus("yellow"),
			c.Cluster.Health.WithTimeout(5*time.Second))
		if err != nil {
			return false, err.Error()
		}
		defer res.Body.Close()
		var h struct {
			Status             string `json:"status"`
			ActivePrimaries    int    `json:"active_primary_shards"`
			InitializingShards int    `json:"initializing_shards"`
			UnassignedShards   int    `json:"unassigned_shards"`
		}
		if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
			return false, err.Error()
		}
		return res.StatusCode == http.StatusOK && h.Status != "red", fmt.Sprintf("%d %s: %d active primaries, %d initializing, %d unassigned",
			res.StatusCode, h.Status, h.ActivePrimaries, h.InitializingShards, h.UnassignedShards)
	})
}
