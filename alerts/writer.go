package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/rs/zerolog"
)

// Defaults for WriterConfig.
const (
	DefaultMaxRetries   = 3
	DefaultMaxBodyBytes = 10 << 20
	// existingChunk is Kibana's chunk size for the ids pre-check.
	existingChunk = 10000
)

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Alias is the alerts write alias (or index), e.g. "esrule-alerts-default".
	Alias string
	// Refresh is the bulk refresh parameter ("true", "false", "wait_for");
	// empty leaves Elasticsearch's default (false). Without a refresh, the
	// writer's next Existing refreshes the alias first.
	Refresh string
	// MaxRetries bounds the retries of 429/5xx and transport failures after the
	// first attempt: 0 means DefaultMaxRetries, a negative value means none.
	MaxRetries int
	// Backoff is the wait before retry n (1-based); nil means exponential from
	// 250ms, capped at 10s.
	Backoff func(attempt int) time.Duration
	Logger  zerolog.Logger
	// MaxBodyBytes splits bulk bodies above this size; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int
}

// Writer writes alerts with bulk create and checks which already exist.
type Writer struct {
	es  esapi.Transport
	cfg WriterConfig
	// unrefreshed is set by a bulk that did not wait for a refresh, and at
	// the start, and cleared by the refresh before the next ids pre-check.
	unrefreshed atomic.Bool
	// unconfirmed are the alerts of bulk requests whose answers were lost
	// (unconfirmed.go).
	unconfirmed unconfirmed
}

// NewWriter returns a Writer for cfg.Alias.
func NewWriter(c esapi.Transport, cfg WriterConfig) *Writer {
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	w := &Writer{es: c, cfg: cfg}
	// Another process may have written alerts that searches do not see yet:
	// an interrupted backfill resumed at once, the previous CronJob run, the
	// replica that held the rule's lease before. The first pre-check
	// refreshes, so that its candidates are checked against them as Kibana's
	// next execution would be.
	w.unrefreshed.Store(true)
	return w
}

func defaultBackoff(attempt int) time.Duration {
	d := 250 * time.Millisecond << (attempt - 1)
	if d > 10*time.Second || d <= 0 {
		return 10 * time.Second
	}
	return d
}

// WriteResult counts what Create did.
type WriteResult struct {
	Created, Duplicate int
	// CreatedIDs are the ids answered with 201, in request order.
	CreatedIDs []string
}

// ItemError is one alert that could not be written.
type ItemError struct {
	ID string
	// Status is the item's (or the whole request's) HTTP status; 0 for transport errors.
	Status       int
	Type, Reason string
}

// BulkError reports the alerts Create could not write.
type BulkError struct {
	Total  int
	Failed []ItemError
}

func (e *BulkError) Error() string {
	if len(e.Failed) == 0 {
		return "write alerts: no failures"
	}
	f := e.Failed[0]
	return fmt.Sprintf("write alerts: %d of %d not written; first: %s: status %d %s: %s",
		len(e.Failed), e.Total, f.ID, f.Status, f.Type, f.Reason)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableStatus: 429 and 5xx are worth retrying.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// readBody reads and closes an HTTP body.
// maxResponseBytes bounds what is read of one response: a bulk response for
// the largest request, or an ids search of 10,000 hits, is far smaller.
const maxResponseBytes = 64 << 20

func readBody(body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxResponseBytes+1))
	if err != nil {
		return b, err
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	return b, nil
}

// excerpt shortens a response body for error messages.
func excerpt(b []byte) string {
	const max = 300
	b = bytes.TrimSpace(b)
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// errorCause extracts type and reason from an Elasticsearch error object.
func errorCause(raw json.RawMessage) (typ, reason string) {
	var e struct{ Type, Reason string }
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil {
		return "", string(raw)
	}
	return e.Type, e.Reason
}

var errNoItems = errors.New("bulk response item count does not match the request")
