package kibana

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/esrule/esrule/esclient"
)

// NewClient returns a client of the Kibana at rawURL (setup --kibana-url)
// with the Elasticsearch credentials of es (Kibana accepts the same API keys
// and users) and its TLS trust: the system CAs plus the Elasticsearch CA, if
// one is set. A pinned Elasticsearch fingerprint does not apply to Kibana.
// A URL that carries credentials is refused, without printing them.
func NewClient(rawURL string, es esclient.Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	switch {
	case err != nil:
		return nil, errors.New("--kibana-url: does not parse (want https://kibana.example.com:5601)")
	case u.User != nil:
		u.User = nil
		return nil, fmt.Errorf("--kibana-url %s carries credentials: esrule uses the Elasticsearch API key or user for Kibana", u.Redacted())
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("--kibana-url %q: want http:// or https:// and a host, such as https://kibana.example.com:5601", u.Redacted())
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(es.CAPEM) > 0 {
		roots.AppendCertsFromPEM(es.CAPEM)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, InsecureSkipVerify: es.InsecureSkipVerify}
	c := &Client{
		URL:  strings.TrimRight(u.String(), "/"),
		HTTP: &http.Client{Transport: tr, Timeout: time.Minute},
	}
	switch {
	case es.APIKey != "":
		c.Authorization, c.AuthSource = "ApiKey "+es.APIKey, "the API key from "+es.APIKeySource
	case es.Username != "":
		c.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(es.Username+":"+es.Password))
		c.AuthSource = fmt.Sprintf("user %q with the password from %s", es.Username, es.PasswordSource)
	}
	return c, nil
}

// ImportAll imports esrule's saved objects (SavedObjects) into space,
// waiting up to wait for a starting Kibana, and returns a line saying what
// was imported (with dryRun, nothing is sent and the line says what would
// be).
func (c *Client) ImportAll(ctx context.Context, space string, wait time.Duration, dryRun bool) (string, error) {
	if dryRun {
		return fmt.Sprintf("saved objects %s%s: would be imported (dry run)", c.URL, ImportPath(space)), nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res, err := c.Import(ctx, space, SavedObjects())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("saved objects %s (space %s): %d imported (data view %s, saved search %s, dashboard esrule-alerts-dashboard)",
		c.URL, space, res.SuccessCount, DataViewID, SavedSearchID), nil
}
