package endpoints

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

func TestHTTPServerLimits(t *testing.T) {
	srv := NewServer(http.NewServeMux())
	require.Positive(t, srv.ReadHeaderTimeout)
	require.Positive(t, srv.ReadTimeout)
	require.Positive(t, srv.WriteTimeout)
	require.Positive(t, srv.IdleTimeout)
	require.Equal(t, MaxHeaderBytes, srv.MaxHeaderBytes)
}

func TestLimitInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h := limitInFlight(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		started <- struct{}{}
		<-release
	}), 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
		}()
	}
	<-started
	<-started
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "a third request while two run")
	close(release)
	wg.Wait()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
}

func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := LimitListener(inner, 1)
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	c1, err := net.Dial("tcp", inner.Addr().String())
	require.NoError(t, err)
	defer c1.Close()
	first := <-accepted
	c2, err := net.Dial("tcp", inner.Addr().String()) // completes in the kernel's backlog
	require.NoError(t, err)
	defer c2.Close()
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted while the first is open")
	default:
	}
	require.NoError(t, first.Close())
	second := <-accepted // accepted once the first is closed
	require.NoError(t, second.Close())
}

// fakeHealth answers _cluster/health: 200, or a connection error.
type fakeHealth struct {
	calls atomic.Int32
	fail  atomic.Bool
}

func (f *fakeHealth) Perform(req *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		return nil, errors.New(`dial tcp 10.1.2.3:9200: user "esrule": connection refused`)
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(`{"status":"green"}`))}, nil
}

func TestReadyzCached(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	es := &fakeHealth{}
	es.fail.Store(true)
	r := NewReadiness(es, 1, zerolog.Nop(), clock)
	r.SetInstalled(nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, text := r.Answer(context.Background())
			require.False(t, ok)
			require.Equal(t, "not ready: elasticsearch unreachable", text, "no internal error chain")
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, es.calls.Load(), "50 hits, one Elasticsearch request")
	es.fail.Store(false)
	ok, _ := r.Answer(context.Background())
	require.False(t, ok, "still the cached answer")
	mu.Lock()
	now = now.Add(ReadyCacheTTL)
	mu.Unlock()
	ok, text := r.Answer(context.Background())
	require.True(t, ok)
	require.Equal(t, "ready", text)
	require.EqualValues(t, 2, es.calls.Load())
}

func TestPublicCause(t *testing.T) {
	dial := errors.New("dial tcp 10.1.2.3:9200: connect: connection refused")
	ue := &esclient.UnreachableError{URL: "https://es:9200", Source: "the default: none of --es-url is set", Err: dial}
	require.Equal(t, "Elasticsearch at https://es:9200 (from the default: none of --es-url is set) cannot be reached",
		publicCause(fmt.Errorf("check the alerts index: %w", ue)))
	require.Equal(t, "index templates and indices not installed",
		publicCause(fmt.Errorf("index templates and indices not installed: %w", errors.New("403 user esrule"))))
}
