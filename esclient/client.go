// Package esclient is esrule's one Elasticsearch client: the HTTP transport
// with TLS and authentication, one retry policy, one error type (Error), the
// response size limit, and the few requests every part of esrule shares
// (Search, FieldCaps, Do). Request bodies and response decoding of the
// detection phases are in esquery, which does no I/O.
package esclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/rs/zerolog"
)

// DefaultMaxResponseBytes is the default response size limit (100 MiB, as
// Kibana's elasticsearch.maxResponseSize on Serverless).
const DefaultMaxResponseBytes = 100 << 20

// authFailureCooldown is how long requests fail fast after Elasticsearch
// rejected the credentials or the TLS certificate, so that no retry loop
// hammers the cluster with requests that cannot succeed.
const authFailureCooldown = time.Minute

// Config is a resolved connection: where Elasticsearch is, how to
// authenticate and verify it, and the limits of every request. The zero
// value talks to http://localhost:9200 without credentials.
type Config struct {
	// Addresses are http(s) URLs (one node is picked per request). Ignored
	// when CloudID is set. Defaults to http://localhost:9200.
	Addresses []string
	// CloudID is an Elastic Cloud ID.
	CloudID string
	// AddressSource names the setting Addresses or CloudID came from, for
	// the message of an unreachable Elasticsearch (empty: the default).
	AddressSource string
	// APIKey is the base64 "id:key"; APIKeySource names where it came from.
	APIKey, APIKeySource string
	// Username and Password for basic authentication, and where the
	// password came from.
	Username, Password, PasswordSource string
	// CAPEM is the PEM of the CA to trust instead of the system's, and
	// CASource where it came from.
	CAPEM    []byte
	CASource string
	// Fingerprint is a SHA-256 certificate fingerprint to pin.
	Fingerprint []byte
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool

	// MaxRetries bounds the retries of one request (Retry). Defaults to 3;
	// negative means none.
	MaxRetries int
	// Backoff is the wait before retry n (n >= 1), before jitter. Defaults
	// to 250ms·2^(n-1), at most 8s.
	Backoff func(n int) time.Duration
	// MaxResponseBytes bounds every response body. Defaults to 100 MiB.
	MaxResponseBytes int64
	// RequestTimeout bounds each attempt of a request. Defaults to 10 minutes.
	RequestTimeout time.Duration

	// Transport replaces the HTTP transport (tests). TLS settings above are
	// then ignored.
	Transport http.RoundTripper
	// Observe, when set, is called after every attempt with the request, its
	// status (0 on a transport error) and its duration (metrics).
	Observe func(req *http.Request, status int, d time.Duration)
	// Logger receives a Debug line per attempt (method, path, status; never
	// headers or bodies) and a Warn line per retry.
	Logger zerolog.Logger
	// Clock measures durations and the cooldown after a rejected
	// credential. Defaults to time.Now.
	Clock func() time.Time
}

// Client is a connection to Elasticsearch. It implements esapi.Transport,
// so that any esapi request can be sent through it, and is safe for
// concurrent use.
type Client struct {
	cfg       Config
	tp        *elastictransport.Client
	tlsMode   string
	addresses []string

	mu          sync.Mutex
	failed      error
	failedUntil time.Time
	genuine     bool
}

// New returns a client for cfg. Bad settings are errors that name the
// setting and never contain a secret.
func New(cfg Config) (*Client, error) {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	addresses := cfg.Addresses
	if cfg.CloudID != "" {
		a, err := CloudAddress(cfg.CloudID)
		if err != nil {
			return nil, err
		}
		addresses = []string{a}
	}
	if len(addresses) == 0 {
		addresses = []string{"http://localhost:9200"}
	}
	urls := make([]*url.URL, 0, len(addresses))
	for _, a := range addresses {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("configure Elasticsearch client: %q is not an http(s) URL", redactURL(a))
		}
		urls = append(urls, u)
	}
	c := &Client{cfg: cfg, addresses: addresses}
	rt := cfg.Transport
	if rt == nil {
		var tr *http.Transport
		tr, c.tlsMode = tlsTransport(cfg)
		rt = tr
	} else {
		c.tlsMode = "custom transport"
	}
	urls, rt, err := splitPathPrefixes(urls, rt)
	if err != nil {
		return nil, err
	}
	opts := []elastictransport.Option{
		elastictransport.WithURLs(urls...),
		elastictransport.WithTransport(rt),
		elastictransport.WithDisableRetry(), // one retry policy: Perform's
		elastictransport.WithUserAgent("esrule"),
	}
	switch {
	case cfg.APIKey != "":
		opts = append(opts, elastictransport.WithAPIKey(cfg.APIKey))
	case cfg.Username != "":
		opts = append(opts, elastictransport.WithBasicAuth(cfg.Username, cfg.Password))
	}
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("configure Elasticsearch client: %s", c.scrub(err.Error()))
	}
	c.tp = tp
	return c, nil
}

// Describe returns loggable facts about the connection, never a secret.
func (c *Client) Describe() (addresses []string, auth, tlsMode string) {
	if c.cfg.CloudID == "" {
		addresses = c.addresses
	}
	return addresses, c.authDescription(), c.tlsMode
}

// MaxResponseBytes is the response size limit.
func (c *Client) MaxResponseBytes() int64 { return c.cfg.MaxResponseBytes }

// Perform sends req with the retry policy (see retry.go), reads the whole
// response body within the size limit, checks on the first successful answer
// that the server is Elasticsearch, and turns rejected credentials and
// untrusted certificates into errors that name the setting to fix. The
// returned response's body is in memory.
func (c *Client) Perform(req *http.Request) (*http.Response, error) {
	if err := c.blocked(); err != nil {
		return nil, err
	}
	return c.retry(req, c.attempt)
}

// attempt sends req once and reads the body. The result's retryable tells
// the retry loop whether another attempt may succeed.
func (c *Client) attempt(req *http.Request) (res *http.Response, retryable bool, err error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.cfg.RequestTimeout)
	defer cancel()
	start := c.cfg.Clock()
	res, err = c.tp.Perform(req.WithContext(ctx))
	took := c.cfg.Clock().Sub(start)
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	if c.cfg.Observe != nil {
		c.cfg.Observe(req, status, took)
	}
	ev := c.cfg.Logger.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int64("took_ms", took.Milliseconds())
	if err != nil {
		if ce := c.tlsError(err, req); ce != nil {
			c.block(ce)
			ev.Err(ce).Msg("elasticsearch request")
			return nil, false, ce
		}
		err = c.unreachable(req, c.scrubError(err))
		ev.Err(err).Msg("elasticsearch request")
		if req.Context().Err() != nil {
			return nil, false, req.Context().Err()
		}
		if speaksTLS(req.Context(), req, err) {
			ce := &connError{msg: fmt.Sprintf("%s://%s: this node speaks TLS: use https:// in ELASTICSEARCH_URL", req.URL.Scheme, req.URL.Host)}
			c.block(ce) // no further request in clear text
			return nil, false, ce
		}
		return nil, retryableTransportError(err), err
	}
	ev.Int("status", status).Msg("elasticsearch request")
	body, err := c.readBody(res)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) || req.Context().Err() != nil {
			return nil, false, err
		}
		return nil, true, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	if status == http.StatusUnauthorized {
		ce := &connError{status: status, msg: c.authMessage(body)}
		c.block(ce)
		return nil, false, ce
	}
	if status >= 200 && status < 300 {
		if err := c.checkGenuine(res); err != nil {
			return nil, false, err
		}
	}
	return res, retryableStatus(status, body), nil
}

// readBody reads and closes the body within the size limit.
func (c *Client) readBody(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	limit := c.cfg.MaxResponseBytes
	if n := res.Header.Get("Content-Length"); n != "" {
		if size, err := strconv.ParseInt(n, 10, 64); err == nil && size > limit {
			return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrResponseTooLarge, size, limit)
		}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return data, nil
}

// checkGenuine checks the product header of the first successful answer, as
// Elastic's clients do.
func (c *Client) checkGenuine(res *http.Response) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.genuine {
		return nil
	}
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return ErrNotElasticsearch
	}
	c.genuine = true
	return nil
}

func (c *Client) blocked() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed != nil && c.cfg.Clock().Before(c.failedUntil) {
		return c.failed
	}
	return nil
}

func (c *Client) block(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed, c.failedUntil = err, c.cfg.Clock().Add(authFailureCooldown)
}
