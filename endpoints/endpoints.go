// Package endpoints serves esrule serve's HTTP endpoints: /healthz (the
// process is alive), /readyz (Elasticsearch reachable, indices installed,
// rules loaded) and /metrics.
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/esclient"
)

// Mux routes the endpoints; metrics serves /metrics.
func Mux(ready *Readiness, metrics http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, text := ready.Answer(r.Context())
		if !ok {
			http.Error(w, text, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, text)
	})
	mux.Handle("GET /metrics", metrics)
	return mux
}

// Readiness answers /readyz: Elasticsearch reachable, indices installed,
// rules loaded.
type Readiness struct {
	t     esapi.Transport
	rules int

	mu         sync.Mutex
	installed  bool
	installErr error

	log zerolog.Logger   // not-ready causes, when they change
	now func() time.Time // age of the cached answer

	cacheMu   sync.Mutex // one check at a time (Answer)
	checked   bool
	checkedAt time.Time
	lastErr   error
}

// NewReadiness returns the readiness of a process with rules rules over t;
// Answer logs to log and ages its cached check with now.
func NewReadiness(t esapi.Transport, rules int, log zerolog.Logger, now func() time.Time) *Readiness {
	return &Readiness{t: t, rules: rules, log: log, now: now}
}

// SetInstalled records the outcome of the last attempt to install the indices.
func (r *Readiness) SetInstalled(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.installed, r.installErr = err == nil, err
}

// Check returns nil when the process is ready, else why it is not.
func (r *Readiness) Check(ctx context.Context) error {
	if r.rules == 0 {
		return errors.New("no rules loaded")
	}
	r.mu.Lock()
	installed, installErr := r.installed, r.installErr
	r.mu.Unlock()
	if !installed {
		if installErr == nil {
			return errors.New("installing index templates and indices")
		}
		if cause := esclient.Cause(installErr); cause != nil {
			return cause // the unreachable URL or rejected credential, not the step
		}
		return fmt.Errorf("index templates and indices not installed: %w", installErr)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := esclient.Call(ctx, r.t, esapi.ClusterHealthRequest{}); err != nil {
		if cause := esclient.Cause(err); cause != nil {
			return cause
		}
		return fmt.Errorf("elasticsearch unreachable: %w", err)
	}
	return nil
}
