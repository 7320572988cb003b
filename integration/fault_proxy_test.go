//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fault is one kind of failure the fault proxy injects.
type fault string

const (
	// fault429 answers 429 without forwarding (a rejected execution).
	fault429 fault = "429"
	// fault503AfterWrite forwards the request, so that Elasticsearch applies
	// it, and answers 503 instead of its answer (a lost answer).
	fault503AfterWrite fault = "503-after-write"
	// faultTruncate forwards the request and cuts its answer in the middle.
	faultTruncate fault = "truncate"
	// faultHang holds the request without forwarding it until the client
	// gives up (its request timeout) or faultProxy.hang passes.
	faultHang fault = "hang"
	// faultShards forwards a search and reports one failed shard in its
	// answer (other requests get a 503 without forwarding).
	faultShards fault = "shard-failure"
)

var allFaults = []fault{fault429, fault503AfterWrite, faultTruncate, faultHang, faultShards}

// faultProxy forwards to Elasticsearch and injects faults at a seeded rate.
// Each decision comes from one seeded generator, so a failing run is
// reproduced by its seed (up to the order in which concurrent requests
// arrive).
type faultProxy struct {
	*httptest.Server
	target *url.URL
	hang   time.Duration

	mu       sync.Mutex
	rnd      *rand.Rand
	rate     float64
	kinds    []fault
	match    func(*http.Request) bool // requests faults apply to (nil: all)
	requests int
	injected map[fault]int
}

func newFaultProxy(t *testing.T, seed uint64, rate float64, hang time.Duration) *faultProxy {
	t.Helper()
	target, err := url.Parse(esURL)
	require.NoError(t, err)
	p := &faultProxy{target: target, hang: hang, rnd: rand.New(rand.NewPCG(seed, 16)), rate: rate,
		kinds: allFaults, injected: map[fault]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// setRate changes the injection rate (0: a clean proxy).
func (p *faultProxy) setRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = rate
}

// stats returns the requests seen and the faults injected by kind.
func (p *faultProxy) stats() (int, map[fault]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[fault]int, len(p.injected))
	for k, v := range p.injected {
		out[k] = v
	}
	return p.requests, out
}

func (p *faultProxy) pick(r *http.Request) (fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rate <= 0 || (p.match != nil && !p.match(r)) || p.rnd.Float64() >= p.rate {
		return "", false
	}
	f := p.kinds[p.rnd.IntN(len(p.kinds))]
	p.injected[f]++
	return f, true
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f, inject := p.pick(r)
	if !inject {
		p.forward(w, r, body, nil)
		return
	}
	isSearch := strings.HasSuffix(r.URL.Path, "/_search")
	switch {
	case f == fault429:
		writeESError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", "injected: queue full")
	case f == fault503AfterWrite:
		p.forward(&discard{}, r, body, nil)
		writeESError(w, http.StatusServiceUnavailable, "unavailable_shards_exception", "injected: answer lost")
	case f == faultTruncate:
		p.forward(w, r, body, func(status int, h http.Header, b []byte) (int, []byte) {
			if len(b) < 2 {
				return status, b
			}
			for k, vs := range h {
				w.Header()[k] = vs
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.WriteHeader(status)
			_, _ = w.Write(b[:len(b)/2])
			panic(http.ErrAbortHandler) // the connection ends in the middle of the body
		})
	case f == faultHang:
		t := time.NewTimer(p.hang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		panic(http.ErrAbortHandler)
	case f == faultShards && isSearch:
		p.forward(w, r, body, func(status int, h http.Header, b []byte) (int, []byte) {
			return status, withShardFailure(b)
		})
	default:
		writeESError(w, http.StatusServiceUnavailable, "unavailable_shards_exception", "injected: unavailable")
	}
}

// discard is an http.ResponseWriter that drops everything.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// forward sends the request to Elasticsearch and writes its answer, through
// rewrite when given (which may write the answer itself and panic).
func (p *faultProxy) forward(w http.ResponseWriter, r *http.Request, body []byte, rewrite func(int, http.Header, []byte) (int, []byte)) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	status := res.StatusCode
	if rewrite != nil {
		status, b = rewrite(status, res.Header.Clone(), b)
	}
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeESError(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"root_cause":[{"type":%q,"reason":%q}],"type":%q,"reason":%q},"status":%d}`,
		typ, reason, typ, reason, status)
}

// withShardFailure marks one shard of a search answer as failed.
func withShardFailure(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	shards, ok := m["_shards"].(map[string]any)
	if !ok {
		return b
	}
	shards["failed"] = 1
	shards["failures"] = []any{map[string]any{"shard": 0, "index": "injected", "reason": map[string]any{
		"type": "node_disconnected_exception", "reason": "injected shard failure"}}}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}
