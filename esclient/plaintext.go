package esclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// PlaintextCredentials returns the http:// addresses of cfg that would
// carry its credentials in clear text (none without credentials).
func PlaintextCredentials(cfg Config) []string {
	if cfg.APIKey == "" && cfg.Username == "" {
		return nil
	}
	var out []string
	for _, a := range cfg.Addresses {
		if u, err := url.Parse(a); err == nil && u.Scheme == "http" {
			out = append(out, a)
		}
	}
	return out
}

// isLoopback reports whether host (of a URL) is localhost or a loopback
// address; the name is not resolved.
func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// checkPlaintext refuses credentials over http:// to a host that is not
// loopback unless allowed; from names the URL setting, source the secret's.
func checkPlaintext(addresses []string, source, from string, allow bool) error {
	if allow {
		return nil
	}
	for _, a := range addresses {
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
			continue
		}
		return fmt.Errorf("%s: %s would carry the credentials from %s in clear text: use https://, or set --es-allow-http (ESRULE_ES_ALLOW_HTTP=true) if the network is trusted",
			from, RedactAddress(a), source)
	}
	return nil
}

// schemePrefix is the start of an address up to the slashes after its
// scheme, even when malformed (https:/ or https//).
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:?/{1,2}`)

// RedactAddress returns a URL as written by a user, without whatever could
// be user information: everything between the scheme and the last @ is
// replaced, also in malformed URLs (user:pw@host, https:/u:pw@host,
// https//u:pw@host), so that no message ever shows a password.
func RedactAddress(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	if u, err := url.Parse(a); err == nil && u.User != nil && u.Host != "" && !strings.Contains(u.Host, "@") {
		u.User = nil
		return u.String()
	}
	prefix := schemePrefix.FindString(a[:at])
	return prefix + "[redacted]" + a[at:]
}

// speaksTLS reports whether host:port of an http:// request that failed
// without an answer completes a TLS handshake: the URL should be https://.
// The probe sends no request and no credential.
func speaksTLS(ctx context.Context, req *http.Request, err error) bool {
	noAnswer := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "malformed HTTP response")
	if req.URL.Scheme != "http" || !noAnswer {
		return false
	}
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // a probe: no data is sent
	conn, derr := d.DialContext(ctx, "tcp", host)
	if derr != nil {
		return false
	}
	_ = conn.Close()
	return true
}
