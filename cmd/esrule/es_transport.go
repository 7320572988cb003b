package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/rs/zerolog"
)

// authFailureCooldown is how long requests fail fast after Elasticsearch
// rejected the credentials or the TLS certificate, so that no caller's retry
// loop hammers the cluster with requests that cannot succeed.
const authFailureCooldown = time.Minute

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

// isConnectionSetupError reports whether err comes from rejected credentials
// or an untrusted certificate: retrying is useless, the settings must change.
func isConnectionSetupError(err error) bool {
	var ce *connError
	return errors.As(err, &ce)
}

// guardedTransport wraps the client's transport: it turns 401 responses and
// TLS verification failures into clear errors, fails fast for a while after
// one, scrubs secrets from transport errors and logs each request at debug
// level (method, path, status; never headers or bodies).
type guardedTransport struct {
	next elastictransport.Interface
	s    *connSettings
	log  zerolog.Logger
	now  func() time.Time

	mu          sync.Mutex
	failed      error
	failedUntil time.Time
}

// Perform implements elastictransport.Interface.
func (g *guardedTransport) Perform(req *http.Request) (*http.Response, error) {
	if err := g.blocked(); err != nil {
		return nil, err
	}
	start := g.now()
	res, err := g.next.Perform(req)
	ev := g.log.Debug().Str("method", req.Method).Str("path", req.URL.Path).Dur("took", g.now().Sub(start))
	if err != nil {
		if ce := g.tlsError(err, req); ce != nil {
			g.block(ce)
			err = ce
		} else if scrubbed := g.s.scrub(err.Error()); scrubbed != err.Error() {
			err = errors.New(scrubbed)
		}
		ev.Err(err).Msg("elasticsearch request")
		return nil, err
	}
	ev.Int("status", res.StatusCode).Msg("elasticsearch request")
	if res.StatusCode == http.StatusUnauthorized {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		ce := &connError{status: http.StatusUnauthorized, msg: g.authMessage(body)}
		g.block(ce)
		return nil, ce
	}
	return res, nil
}

func (g *guardedTransport) blocked() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil && g.now().Before(g.failedUntil) {
		return g.failed
	}
	return nil
}

func (g *guardedTransport) block(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failed, g.failedUntil = err, g.now().Add(authFailureCooldown)
}

// authMessage explains a 401: which method was rejected and what to check.
func (g *guardedTransport) authMessage(body []byte) string {
	reason := "401 Unauthorized"
	var e struct {
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Reason != "" {
		reason += ": " + g.s.scrub(e.Error.Reason)
	}
	switch {
	case g.s.apiKey != "":
		return fmt.Sprintf("Elasticsearch rejected the API key from %s (%s): check that the key is the base64 \"id:key\" encoding, and is neither expired nor invalidated", g.s.apiKeySource, reason)
	case g.s.username != "":
		return fmt.Sprintf("Elasticsearch rejected user %q with the password from %s (%s): check the username and password", g.s.username, g.s.passwordSrc, reason)
	default:
		return fmt.Sprintf("Elasticsearch requires authentication (%s): set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD (or their _FILE variants)", reason)
	}
}

// tlsError turns a certificate verification failure into a connError with
// the setting to fix; other errors give nil.
func (g *guardedTransport) tlsError(err error, req *http.Request) *connError {
	host := req.URL.Scheme + "://" + req.URL.Host
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.Is(err, errFingerprintMismatch):
		return &connError{msg: fmt.Sprintf("TLS: no certificate presented by %s matches the pinned fingerprint (check ELASTICSEARCH_CA_FINGERPRINT or --es-ca-fingerprint)", host)}
	case errors.As(err, &unknown):
		hint := "set ELASTICSEARCH_CA_CERT or --es-ca-cert to the PEM file of the CA that signed Elasticsearch's certificate, or pin it with ELASTICSEARCH_CA_FINGERPRINT"
		if g.s.caSource != "" {
			hint = fmt.Sprintf("the CA from %s did not sign it: point it to the CA of this cluster", g.s.caSource)
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

// retryOnError is the client's retry policy for transport errors: TLS
// verification failures and cancellations are final; network errors are
// retried (on the next node when there are several).
func retryOnError(_ *http.Request, err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, errFingerprintMismatch),
		errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &record), errors.As(err, &verify):
		return false
	}
	return true
}
