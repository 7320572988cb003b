//go:build integration

// Package integration holds tests against a real Elasticsearch started by
// scripts/elasticsearch.sh. The URL comes from ESRULE_TEST_ES_URL. When CI=true
// and Elasticsearch is unreachable, the tests fail; they never skip.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	if err := waitForES(60 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "integration: Elasticsearch at %s is not reachable: %v\n", esURL, err)
		fmt.Fprintln(os.Stderr, "integration: start it with scripts/elasticsearch.sh start and set ESRULE_TEST_ES_URL")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func waitForES(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		res, err := http.Get(esURL + "/_cluster/health?wait_for_status=yellow&timeout=5s")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	return last
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
