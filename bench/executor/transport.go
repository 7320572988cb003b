package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// countingTransport counts the requests made to Elasticsearch and sums the
// "took" of every response body that has one (search, bulk), independently of
// what the executor reports.
type countingTransport struct {
	base http.RoundTripper

	mu       sync.Mutex
	requests map[string]int // by kind: search, bulk, other
	tookMs   int64
	httpTime time.Duration // from sending each request to closing its response body
	trace    []requestTrace
}

// requestTrace is one request's path, duration and took.
type requestTrace struct {
	Method, Path string
	Duration     time.Duration
	TookMs       int64
}

func newCountingTransport() *countingTransport {
	return &countingTransport{base: http.DefaultTransport, requests: map[string]int{}}
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := "other"
	switch {
	case strings.HasSuffix(req.URL.Path, "/_search"):
		kind = "search"
	case strings.HasSuffix(req.URL.Path, "/_bulk"):
		kind = "bulk"
	}
	c.mu.Lock()
	c.requests[kind]++
	c.mu.Unlock()
	start := time.Now()
	res, err := c.base.RoundTrip(req)
	if err != nil || res.Body == nil {
		c.mu.Lock()
		c.httpTime += time.Since(start)
		c.mu.Unlock()
		return res, err
	}
	res.Body = &tookReader{ReadCloser: res.Body, t: c, start: start, method: req.Method, path: req.URL.Path}
	return res, nil
}

// reset clears the counters.
func (c *countingTransport) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = map[string]int{}
	c.tookMs = 0
	c.httpTime = 0
	c.trace = nil
}

func (c *countingTransport) snapshot() (map[string]int, int64, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.requests {
		out[k] = v
	}
	return out, c.tookMs, c.httpTime
}

// tookReader keeps the first bytes of a response body and, on Close, adds
// its top-level "took" (among the first keys of search and bulk responses).
type tookReader struct {
	io.ReadCloser
	t            *countingTransport
	start        time.Time
	method, path string
	head         bytes.Buffer
}

var tookPattern = regexp.MustCompile(`"took"\s*:\s*(\d+)`)

func (r *tookReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if room := 64 - r.head.Len(); room > 0 && n > 0 {
		r.head.Write(p[:min(n, room)])
	}
	return n, err
}

func (r *tookReader) Close() error {
	var ms int64
	if m := tookPattern.FindSubmatch(r.head.Bytes()); m != nil {
		ms, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	r.t.mu.Lock()
	r.t.tookMs += ms
	d := time.Since(r.start)
	r.t.httpTime += d
	r.t.trace = append(r.t.trace, requestTrace{Method: r.method, Path: r.path, Duration: d, TookMs: ms})
	r.t.mu.Unlock()
	return r.ReadCloser.Close()
}
