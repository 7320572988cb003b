package esclient

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ParseAddresses splits comma-separated URLs and checks each one; from
// names the setting in errors. An empty list gives http://localhost:9200.
func ParseAddresses(list, from string) ([]string, error) {
	if list == "" {
		return []string{"http://localhost:9200"}, nil
	}
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		u, err := url.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("%s: a URL does not parse (want https://host:9200)", from)
		}
		if u.User != nil || strings.Contains(a, "@") {
			return nil, fmt.Errorf("%s: %s carries credentials: set ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD (or ELASTICSEARCH_API_KEY) instead", from, RedactAddress(a))
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: %q: want http:// or https:// and a host, such as https://es.example.com:9200", from, RedactAddress(a))
		}
		out = append(out, strings.TrimRight(u.String(), "/"))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no URL", from)
	}
	return out, nil
}

// redactURL hides user information in a URL for messages.
func redactURL(a string) string { return RedactAddress(a) }

// NormalizeAPIKey returns the base64 "id:key" form Elasticsearch expects;
// a raw "id:key" is encoded.
func NormalizeAPIKey(k string) string {
	if strings.Contains(k, ":") {
		return base64.StdEncoding.EncodeToString([]byte(k))
	}
	return k
}

// ReadCA reads a PEM file (or PEM text) and checks that it holds a
// certificate; a relative path is taken relative to dir when dir is set.
func ReadCA(v, dir string) ([]byte, error) {
	pem := []byte(v)
	if !strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		path := v
		if dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate: %w", err)
		}
		pem = b
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA certificate: no PEM certificate in it")
	}
	return pem, nil
}

// ParseFingerprint accepts hex with or without colons (as openssl prints it).
func ParseFingerprint(v string) ([]byte, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(v))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("want a SHA-256 fingerprint: 64 hex digits, colons allowed")
	}
	return b, nil
}

// CloudAddress decodes an Elastic Cloud ID ("name:base64(host$es$kibana)")
// into the Elasticsearch URL, as Elastic's clients do.
func CloudAddress(id string) (string, error) {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		enc = id
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("decode Cloud ID: not base64 after the name")
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("decode Cloud ID: want host$elasticsearch-id[$kibana-id]")
	}
	host, port := parts[0], ""
	if h, p, found := strings.Cut(host, ":"); found {
		host, port = h, ":"+p
	}
	return "https://" + parts[1] + "." + host + port, nil
}
