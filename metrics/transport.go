package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ObserveRequest records one attempt of an Elasticsearch request (status 0:
// no response) in esrule_es_request_duration_seconds; it is the Observe hook
// of esclient.Config.
func (m *Metrics) ObserveRequest(req *http.Request, status int, d time.Duration) {
	m.esRequestSeconds.WithLabelValues(Endpoint(req.Method, req.URL.Path), strconv.Itoa(status)).Observe(d.Seconds())
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
