package esclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

var errFingerprintMismatch = errors.New("no certificate in the chain matches the pinned fingerprint")

// connError is a failure that another attempt with the same settings cannot
// fix: rejected credentials (401) or an untrusted TLS certificate. Its
// message names the setting to fix, never a secret.
type connError struct {
	msg string
	// status is 401 for rejected credentials, 0 for TLS failures.
	status int
}

func (e *connError) Error() string { return e.msg }

// IsSetupError reports whether err comes from rejected credentials or an
// untrusted certificate: retrying is useless, the settings must change.
func IsSetupError(err error) bool {
	var ce *connError
	return errors.As(err, &ce)
}

// tlsTransport returns the HTTP transport with the TLS settings of cfg, and a
// word describing the TLS mode for the log.
func tlsTransport(cfg Config) (*http.Transport, string) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	mode := "system CAs"
	if len(cfg.CAPEM) > 0 {
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(cfg.CAPEM)
		mode = "CA from " + cfg.CASource
	}
	switch {
	case cfg.InsecureSkipVerify:
		tc.InsecureSkipVerify = true
		mode = "unverified (--insecure-skip-verify)"
	case len(cfg.Fingerprint) > 0 && len(cfg.CAPEM) > 0:
		// The CA of the CA file with the fingerprint (Resolve kept only it)
		// is the only root of an ordinary verification (see pin.go).
		mode = "CA from " + cfg.CASource + " pinned by fingerprint"
	case len(cfg.Fingerprint) > 0:
		// The leaf, or a certificate of the chain the leaf verifies up to
		// (see pin.go); the chain check is done by verifyPinned.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = verifyPinned(cfg.Fingerprint, cfg.Clock, "")
		tr.DialTLSContext = pinnedDialer(tc, cfg.Fingerprint, cfg.Clock)
		mode = "pinned fingerprint"
	}
	tr.TLSClientConfig = tc
	return tr, mode
}

// tlsError turns a certificate verification failure into a connError with
// the setting to fix; other errors give nil.
func (c *Client) tlsError(err error, req *http.Request) *connError {
	host := req.URL.Scheme + "://" + req.URL.Host
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
		notPinned *errChainNotPinned
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.Is(err, errFingerprintMismatch):
		return &connError{msg: fmt.Sprintf("TLS: no certificate presented by %s matches the pinned fingerprint (%s)", host, pinHint)}
	case errors.As(err, &notPinned):
		return &connError{msg: pinChainMessage(host, notPinned)}
	case errors.As(err, &unknown):
		hint := "set ELASTICSEARCH_CA_CERT or --es-ca-cert to the PEM file of the CA that signed Elasticsearch's certificate, or pin it with ELASTICSEARCH_CA_FINGERPRINT"
		if c.cfg.CASource != "" {
			hint = fmt.Sprintf("the CA from %s did not sign it: point it to the CA of this cluster", c.cfg.CASource)
		}
		return &connError{msg: fmt.Sprintf("TLS: certificate of %s signed by unknown authority (%s)", host, hint)}
	case errors.As(err, &hostname):
		return &connError{msg: fmt.Sprintf("TLS: certificate of %s is not valid for this host: %v (use a host name the certificate names in ELASTICSEARCH_URL)", host, hostname)}
	case errors.As(err, &invalid):
		return &connError{msg: fmt.Sprintf("TLS: certificate of %s is not valid: %v", host, invalid)}
	case errors.As(err, &record):
		return &connError{msg: fmt.Sprintf("TLS: %s does not answer with TLS (use http:// in ELASTICSEARCH_URL if it serves plain HTTP)", host)}
	}
	return nil
}

// authMessage explains a 401: which method was rejected and what to check.
func (c *Client) authMessage(body []byte) string {
	reason := "401 Unauthorized"
	var e struct {
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Reason != "" {
		reason += ": " + c.scrub(e.Error.Reason)
	}
	switch {
	case c.cfg.APIKey != "":
		return fmt.Sprintf("Elasticsearch rejected the API key from %s (%s): check that the key is the base64 \"id:key\" encoding, and is neither expired nor invalidated", c.cfg.APIKeySource, reason)
	case c.cfg.Username != "":
		return fmt.Sprintf("Elasticsearch rejected user %q with the password from %s (%s): check the username and password", c.cfg.Username, c.cfg.PasswordSource, reason)
	default:
		return fmt.Sprintf("Elasticsearch requires authentication (%s): set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD (or their _FILE variants)", reason)
	}
}

// authDescription names the authentication method and where it came from,
// never the secret.
func (c *Client) authDescription() string {
	switch {
	case c.cfg.APIKey != "":
		return "API key from " + c.cfg.APIKeySource
	case c.cfg.Username != "":
		return fmt.Sprintf("user %q with the password from %s", c.cfg.Username, c.cfg.PasswordSource)
	default:
		return "no credentials"
	}
}

// secrets are the values that must never be printed.
func (c *Client) secrets() []string {
	return Secrets(c.cfg.APIKey, c.cfg.Password)
}

// Secrets lists the printable forms of an API key (base64, "id:key" and the
// key alone) and a password, for Scrub.
func Secrets(apiKey, password string) []string {
	var out []string
	if apiKey != "" {
		out = append(out, apiKey)
		if raw, err := base64.StdEncoding.DecodeString(apiKey); err == nil {
			if _, key, ok := strings.Cut(string(raw), ":"); ok && key != "" {
				out = append(out, key, string(raw))
			}
		}
	}
	if password != "" {
		out = append(out, password)
	}
	return out
}

// Scrub replaces every secret in text.
func Scrub(text string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

func (c *Client) scrub(text string) string { return Scrub(text, c.secrets()) }

func (c *Client) scrubError(err error) error {
	if s := c.scrub(err.Error()); s != err.Error() {
		return errors.New(s)
	}
	return err
}
