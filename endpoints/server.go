package endpoints

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/esrule/esrule/esclient"
)

// Limits of the endpoints' server, which listens on all interfaces by
// default.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 16 << 10
	// MaxConns bounds open connections (idle keep-alives included); further
	// ones wait in the kernel's backlog.
	MaxConns = 64
	// MaxInFlight bounds requests being answered; more get 503 at once.
	MaxInFlight = 16
	// ReadyCacheTTL is how long a /readyz answer is reused: probes and scans
	// cannot turn into a stream of Elasticsearch requests.
	ReadyCacheTTL = 5 * time.Second
)

// NewServer returns the endpoints' server for h with read, write and idle
// timeouts, a header size limit and a cap on requests in flight. Serve it
// on LimitListener(ln, MaxConns).
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           limitInFlight(h, MaxInFlight),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// limitInFlight answers 503 when n requests are already being served.
func limitInFlight(h http.Handler, n int) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
}

// LimitListener accepts at most n connections at a time from l.
func LimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n)}
}

type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Answer is /readyz: whether the process is ready and the text for the
// client. It reuses a check at most ReadyCacheTTL old; one check runs at a
// time and concurrent requests share its result. The client gets the cause
// only (the text before the first ": "); the full error goes to the log
// when it changes.
func (r *Readiness) Answer(ctx context.Context) (bool, string) {
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	if !r.checked || r.now().Sub(r.checkedAt) >= ReadyCacheTTL {
		err := r.Check(context.WithoutCancel(ctx))
		switch {
		case err != nil && (r.lastErr == nil || r.lastErr.Error() != err.Error()):
			r.log.Warn().Err(err).Msg("not ready")
		case err == nil && (r.lastErr != nil || !r.checked):
			r.log.Info().Msg("ready")
		}
		r.checkedAt, r.lastErr, r.checked = r.now(), err, true
	}
	if r.lastErr != nil {
		return false, "not ready: " + publicCause(r.lastErr)
	}
	return true, "ready"
}

// publicCause is a readiness error in one line for any client, without the
// wrapped chain of internal errors: the unreachable URL and its setting
// without the dial error, a rejected credential or untrusted certificate
// without the details in parentheses, else the text before the first ": "
// ("index templates and indices not installed").
func publicCause(err error) string {
	var ue *esclient.UnreachableError
	if errors.As(err, &ue) {
		return strings.TrimSuffix(ue.Error(), ": "+fmt.Sprint(ue.Err))
	}
	if esclient.IsSetupError(err) {
		cause, _, _ := strings.Cut(esclient.Cause(err).Error(), " (")
		return cause
	}
	cause, _, _ := strings.Cut(err.Error(), ": ")
	return cause
}
