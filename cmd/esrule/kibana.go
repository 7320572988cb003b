package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/esrule/esrule/kibana"
)

// kibanaClient returns a client of the Kibana at rawURL with the
// Elasticsearch credentials (Kibana accepts the same API keys and users) and
// TLS trust: the system CAs plus the Elasticsearch CA, if one is set. A
// pinned Elasticsearch fingerprint does not apply to Kibana.
func (o *esOptions) kibanaClient(rawURL string) (*kibana.Client, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	switch {
	case err != nil:
		return nil, usagef("--kibana-url: does not parse (want https://kibana.example.com:5601)")
	case u.User != nil:
		u.User = nil
		return nil, usagef("--kibana-url %s carries credentials: esrule uses the Elasticsearch API key or user for Kibana", u.Redacted())
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, usagef("--kibana-url %q: want http:// or https:// and a host, such as https://kibana.example.com:5601", u.Redacted())
	}
	s, err := o.settings()
	if err != nil {
		return nil, asUsage(err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(s.CAPEM) > 0 {
		roots.AppendCertsFromPEM(s.CAPEM)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, InsecureSkipVerify: s.InsecureSkipVerify}
	c := &kibana.Client{
		URL:  strings.TrimRight(u.String(), "/"),
		HTTP: &http.Client{Transport: tr, Timeout: time.Minute},
	}
	switch {
	case s.APIKey != "":
		c.Authorization, c.AuthSource = "ApiKey "+s.APIKey, "the API key from "+s.APIKeySource
	case s.Username != "":
		c.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(s.Username+":"+s.Password))
		c.AuthSource = fmt.Sprintf("user %q with the password from %s", s.Username, s.PasswordSource)
	}
	return c, nil
}
