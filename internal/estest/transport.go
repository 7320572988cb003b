// Package estest is the test kit for code that talks to Elasticsearch: a
// fake transport that answers requests by method and path with canned
// replies, records every request and injects failures, and SearchFake, an
// in-memory search over documents that evaluates the request bodies
// esrule sends as Elasticsearch would. Only tests import it.
package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esrule/esrule/esclient"
)

// ProductHeader is the header the Go client checks to accept a server as
// Elasticsearch.
const ProductHeader = "X-Elastic-Product"

// Request is one recorded request.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Reply is one canned answer. The zero Status is 200.
type Reply struct {
	Status int
	Body   []byte
	Header http.Header
	// Err, when set, is returned by the transport instead of a response
	// (a connection refused or reset).
	Err error
	// CutAfter, when positive, ends the body after that many bytes with
	// io.ErrUnexpectedEOF (a connection closed mid-response).
	CutAfter int
	// Impostor leaves out the X-Elastic-Product header.
	Impostor bool
	// compute, when set, makes the reply from the request (Compute).
	compute Responder
	// hang holds the request until its context ends (Hang).
	hang bool
}

// Hang is no answer at all: the request waits until its context is done and
// fails with the context's error (an unresponsive node, a timeout).
func Hang() Reply { return Reply{hang: true} }

// Compute is a reply made from the request when it arrives, e.g. a bulk
// answer that depends on the items sent.
func Compute(fn Responder) Reply { return Reply{compute: fn} }

// NginxBadGateway is the page an nginx proxy answers when Elasticsearch
// behind it is down (with status 502).
const NginxBadGateway = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
`

// JSON is a reply with a JSON body given as text.
func JSON(status int, body string) Reply { return Reply{Status: status, Body: []byte(body)} }

// Value is a reply with v encoded as its JSON body.
func Value(status int, v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("estest: encode reply: %v", err))
	}
	return Reply{Status: status, Body: b}
}

// File is a reply whose body is a file (testdata/...), read now.
func File(tb testing.TB, status int, name string) Reply {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("estest: read reply body: %v", err)
	}
	return Reply{Status: status, Body: b}
}

// Error is Elasticsearch's error reply: {"error":{"type","reason",...},"status"}.
func Error(status int, kind, reason string) Reply {
	return Value(status, map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": kind, "reason": reason}},
			"type":       kind, "reason": reason,
		},
		"status": status,
	})
}

// Fail is a transport error instead of a response.
func Fail(err error) Reply { return Reply{Err: err} }

// Responder computes a reply from the request.
type Responder func(Request) Reply

// Route answers the requests matching a method and a path pattern.
type Route struct {
	method, pattern string
	replies         []Reply
	fn              Responder
	script          bool // each reply answers once; then the route no longer matches
	calls           atomic.Int32
}

// Calls is the number of requests the route answered.
func (r *Route) Calls() int { return int(r.calls.Load()) }

// Remaining is the number of a script's replies not used yet.
func (r *Route) Remaining() int {
	if !r.script {
		return 0
	}
	return max(len(r.replies)-r.Calls(), 0)
}

// Transport is a fake Elasticsearch: an http.RoundTripper for
// elasticsearch.Config.Transport and an esapi.Transport (Perform) for code
// that takes one directly. Every response carries X-Elastic-Product:
// Elasticsearch unless Impostor is set or a reply asks otherwise.
// Requests that no route matches fail with an error naming them.
type Transport struct {
	// Impostor leaves the product header out of every response.
	Impostor bool

	mu       sync.Mutex
	routes   []*Route
	requests []Request
}

// NewTransport returns a transport without routes.
func NewTransport() *Transport { return &Transport{} }

// On answers requests with method (empty: any) whose path matches pattern
// (path.Match syntax: * is one path segment or part of one; the pattern
// "/**" matches every path) with the replies in order, the last one
// repeating: On("GET", "/_cluster/health", Status(503), JSON(200, ...)).
// Routes added later take precedence.
func (t *Transport) On(method, pattern string, replies ...Reply) *Route {
	if len(replies) == 0 {
		panic("estest: On needs at least one reply")
	}
	return t.add(&Route{method: method, pattern: pattern, replies: replies})
}

// Script answers matching requests with the replies in order, each once;
// once they are used up the route no longer matches (a request then goes to
// an older route, or fails). Route.Remaining tells whether all were used.
func (t *Transport) Script(method, pattern string, replies ...Reply) *Route {
	return t.add(&Route{method: method, pattern: pattern, replies: replies, script: true})
}

// OnFunc answers matching requests with fn.
func (t *Transport) OnFunc(method, pattern string, fn Responder) *Route {
	return t.add(&Route{method: method, pattern: pattern, fn: fn})
}

// Status is a reply with only a status and an empty JSON object as body.
func Status(code int) Reply { return Reply{Status: code, Body: []byte("{}")} }

func (t *Transport) add(r *Route) *Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.routes = append(t.routes, r)
	return r
}

// ServeSearch routes _search requests (GET or POST, with or without
// indices) to f, honouring filter_path.
func (t *Transport) ServeSearch(f *SearchFake) *Route {
	serve := func(req Request) Reply {
		var indices []string
		if idx := strings.TrimSuffix(strings.TrimPrefix(req.Path, "/"), "/_search"); idx != "_search" && idx != "" {
			indices = strings.Split(idx, ",")
		}
		var paths []string
		if fp := req.Query.Get("filter_path"); fp != "" {
			paths = strings.Split(fp, ",")
		}
		status, body := f.ServeSearch(indices, req.Body, paths)
		return Reply{Status: status, Body: body}
	}
	t.OnFunc("", "/_search", serve)
	return t.OnFunc("", "/*/_search", serve)
}

// RoundTrip answers one request.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("estest: read request body: %w", err)
		}
		req.Body.Close()
	}
	rec := Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: body}
	t.mu.Lock()
	t.requests = append(t.requests, rec)
	var route *Route
	for i := len(t.routes) - 1; i >= 0; i-- {
		if r := t.routes[i]; r.matches(rec) && (!r.script || r.Remaining() > 0) {
			route = r
			break
		}
	}
	var reply Reply
	if route != nil {
		n := int(route.calls.Add(1))
		if route.fn == nil {
			reply = route.replies[min(n, len(route.replies))-1]
		}
	}
	impostor := t.Impostor
	t.mu.Unlock()
	if route == nil {
		return nil, fmt.Errorf("estest: no route for %s %s", rec.Method, rec.Path)
	}
	if route.fn != nil {
		reply = route.fn(rec)
	}
	if reply.compute != nil {
		reply = reply.compute(rec)
	}
	if reply.hang {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	if reply.Err != nil {
		return nil, reply.Err
	}
	return reply.response(req, impostor), nil
}

// ServeHTTP makes Transport an http.Handler, for tests that need a real
// server (TLS handshakes, a command that connects by URL). A transport
// error (Fail) aborts the connection without an answer.
func (t *Transport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := t.RoundTrip(r)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	if _, err := io.Copy(w, res.Body); err != nil {
		panic(http.ErrAbortHandler) // a cut body: close the connection mid-response
	}
}

// Perform makes Transport an esapi.Transport.
func (t *Transport) Perform(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "" {
		u := *req.URL
		u.Scheme, u.Host = "http", "es.test:9200"
		req.URL = &u
	}
	return t.RoundTrip(req)
}

func (r *Route) matches(req Request) bool {
	if r.method != "" && r.method != req.Method {
		return false
	}
	if r.pattern == "/**" {
		return true
	}
	ok, err := path.Match(r.pattern, req.Path)
	return err == nil && ok
}

func (r Reply) response(req *http.Request, impostor bool) *http.Response {
	h := http.Header{"Content-Type": []string{"application/json"}}
	for k, v := range r.Header {
		h[k] = slices.Clone(v)
	}
	if !impostor && !r.Impostor && h.Get(ProductHeader) == "" {
		h.Set(ProductHeader, "Elasticsearch")
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	var body io.Reader = bytes.NewReader(r.Body)
	length := int64(len(r.Body))
	if r.CutAfter > 0 && r.CutAfter < len(r.Body) {
		body = io.MultiReader(bytes.NewReader(r.Body[:r.CutAfter]), errReader{io.ErrUnexpectedEOF})
		length = -1
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(body), ContentLength: length, Request: req,
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Requests returns every request so far, in order.
func (t *Transport) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.requests)
}

// RequestsTo returns the requests with method (empty: any) whose path
// matches pattern.
func (t *Transport) RequestsTo(method, pattern string) []Request {
	r := &Route{method: method, pattern: pattern}
	var out []Request
	for _, req := range t.Requests() {
		if r.matches(req) {
			out = append(out, req)
		}
	}
	return out
}

// Client returns an esrule client over t that does not retry (tests see
// each request the code under test makes).
func (t *Transport) Client(tb testing.TB) *esclient.Client {
	tb.Helper()
	return t.ClientWith(tb, esclient.Config{MaxRetries: -1})
}

// ClientWith returns a client over t with cfg; its Addresses and Transport
// are set here, and a nil Backoff waits not at all.
func (t *Transport) ClientWith(tb testing.TB, cfg esclient.Config) *esclient.Client {
	tb.Helper()
	cfg.Addresses = []string{"http://es.test:9200"}
	cfg.Transport = t
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 0 }
	}
	c, err := esclient.New(cfg)
	if err != nil {
		tb.Fatalf("estest: create client: %v", err)
	}
	return c
}
