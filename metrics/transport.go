package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Performer is the Elasticsearch client's transport interface
// (elastictransport.Interface, the Transport field of *elasticsearch.Client).
type Performer interface {
	Perform(*http.Request) (*http.Response, error)
}

// Transport returns an http.RoundTripper that observes the duration of every
// request next makes (each attempt, retries included) in
// esrule_es_request_duration_seconds. Use it as elasticsearch.Config.Transport
// (nil next: http.DefaultTransport).
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		res, err := next.RoundTrip(req)
		m.observeRequest(req, res, time.Since(start))
		return res, err
	})
}

// Performer returns next with every request (including the client's retries)
// observed in esrule_es_request_duration_seconds. It instruments an existing
// client: c.Transport = m.Performer(c.Transport).
func (m *Metrics) Performer(next Performer) Performer {
	return performFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		res, err := next.Perform(req)
		m.observeRequest(req, res, time.Since(start))
		return res, err
	})
}

func (m *Metrics) observeRequest(req *http.Request, res *http.Response, d time.Duration) {
	code := "0"
	if res != nil {
		code = strconv.Itoa(res.StatusCode)
	}
	m.esRequestSeconds.WithLabelValues(Endpoint(req.Method, req.URL.Path), code).Observe(d.Seconds())
}

// Endpoint names the Elasticsearch API of a request with a small, fixed set of
// values, so that index names never become label values.
func Endpoint(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		switch p {
		case "_search", "_bulk", "_mget", "_field_caps", "_refresh", "_count", "_mapping", "_alias", "_aliases":
			return strings.TrimPrefix(p, "_")
		case "_index_template":
			return "index_template"
		case "_cluster":
			return "cluster"
		case "_doc", "_create":
			if method == http.MethodGet || method == http.MethodHead {
				return "get"
			}
			return "index"
		}
	}
	if path == "" || path == "/" {
		return "info"
	}
	return "other"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type performFunc func(*http.Request) (*http.Response, error)

func (f performFunc) Perform(r *http.Request) (*http.Response, error) { return f(r) }
