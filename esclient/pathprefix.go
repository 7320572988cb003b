package esclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// pathPrefixes is the HTTP transport below elastictransport for nodes whose
// URL has a path prefix (a proxy at https://gw/es). elastictransport would
// prepend the prefix to the request's decoded path and send it re-escaped
// from that: an escaped index pattern such as %3Clogs-%7Bnow%2Fd%7D%3E (date
// math) would lose its %2F and become two path segments, and an escaped
// prefix would lose its own escaping. So esrule gives elastictransport the
// URLs without their paths, and pathPrefixes puts each node's prefix, as
// escaped in its URL, in front of the request's escaped path.
type pathPrefixes struct {
	next     http.RoundTripper
	prefixes map[string]string // scheme://host → escaped path prefix without the trailing slash
}

// splitPathPrefixes returns urls without their paths, and a transport that
// adds them back to each request; next is returned as is when no URL has a
// path.
func splitPathPrefixes(urls []*url.URL, next http.RoundTripper) ([]*url.URL, http.RoundTripper, error) {
	p := pathPrefixes{next: next, prefixes: map[string]string{}}
	out := make([]*url.URL, len(urls))
	for i, u := range urls {
		node := u.Scheme + "://" + u.Host
		prefix := strings.TrimRight(u.EscapedPath(), "/")
		if have, ok := p.prefixes[node]; ok && have != prefix {
			return nil, nil, fmt.Errorf("configure Elasticsearch client: two addresses of %s differ only in their path (%q and %q)", node, have, prefix)
		}
		p.prefixes[node] = prefix
		bare := *u
		bare.Path, bare.RawPath = "", ""
		out[i] = &bare
	}
	for _, prefix := range p.prefixes {
		if prefix != "" {
			return out, p, nil
		}
	}
	return out, next, nil
}

func (p pathPrefixes) RoundTrip(req *http.Request) (*http.Response, error) {
	prefix := p.prefixes[req.URL.Scheme+"://"+req.URL.Host]
	if prefix == "" {
		return p.next.RoundTrip(req)
	}
	decoded, err := url.PathUnescape(prefix)
	if err != nil {
		return nil, fmt.Errorf("add path prefix %q: %w", prefix, err)
	}
	u := *req.URL
	u.RawPath = prefix + req.URL.EscapedPath()
	u.Path = decoded + req.URL.Path
	out := new(http.Request)
	*out = *req
	out.URL = &u
	return p.next.RoundTrip(out)
}
