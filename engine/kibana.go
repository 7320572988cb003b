package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// ResolveKibanaVersion sets the kibana.version of the alerts written from
// now on to the Elasticsearch cluster's version, unless Config.KibanaVersion
// is set or Config.DetectKibanaVersion is off: in a stack of one version,
// Kibana (which writes its own version there) has the cluster's version.
// The version comes from GET /, or from the local node's info where GET / is
// not served. Ensure calls it; commands that write nothing (dry runs) may.
func (e *Engine) ResolveKibanaVersion(ctx context.Context) error {
	if e.cfg.KibanaVersion != "" || !e.cfg.DetectKibanaVersion || e.kibanaVersion() != "" {
		return nil
	}
	v, err := clusterVersion(ctx, e.client)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.detectedVersion.Store(&v)
	for _, ex := range e.executors {
		ex.KibanaVersion = v
	}
	return nil
}

// kibanaVersion is Config.KibanaVersion, else the detected version.
func (e *Engine) kibanaVersion() string {
	if e.cfg.KibanaVersion != "" {
		return e.cfg.KibanaVersion
	}
	if v := e.detectedVersion.Load(); v != nil {
		return *v
	}
	return ""
}

// clusterVersion reads the Elasticsearch version: GET /, else GET
// /_nodes/_local (the integ-test distribution does not serve GET /).
func clusterVersion(ctx context.Context, t esapi.Transport) (string, error) {
	const what = "read the Elasticsearch version for kibana.version (or set --kibana-version)"
	r, err := esclient.Call(ctx, t, esapi.InfoRequest{})
	if err == nil {
		var root struct {
			Version struct {
				Number string `json:"number"`
			} `json:"version"`
		}
		if err := json.Unmarshal(r.Body, &root); err != nil || root.Version.Number == "" {
			return "", fmt.Errorf("%s: GET / has no version.number", what)
		}
		return root.Version.Number, nil
	}
	if s := esclient.StatusOf(err); s != http.StatusNotFound && s != http.StatusMethodNotAllowed {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	r, err = esclient.Call(ctx, t, esapi.NodesInfoRequest{NodeID: []string{"_local"}, FilterPath: []string{"nodes.*.version"}})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	var nodes struct {
		Nodes map[string]struct {
			Version string `json:"version"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(r.Body, &nodes); err != nil {
		return "", fmt.Errorf("%s: decode the node info: %w", what, err)
	}
	for _, n := range nodes.Nodes {
		if n.Version != "" {
			return n.Version, nil
		}
	}
	return "", fmt.Errorf("%s: neither GET / nor GET /_nodes/_local gives it", what)
}
