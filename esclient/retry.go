package esclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// The retry policy, the only one in esrule: a request is sent again, at
// most Config.MaxRetries times, after
//   - a network error (not a TLS verification failure, not a cancellation),
//   - a truncated response body,
//   - 429 Too Many Requests, 502, 503 or 504, unless the body says the
//     request itself is too large (a circuit breaker or too many buckets,
//     which another attempt cannot fix: the caller halves its batch),
//
// waiting Config.Backoff(n) with full jitter, or the server's Retry-After
// when longer, and never past the request context's deadline. When the
// retries are spent, the last response (or error) is returned.

const maxRetryAfter = time.Minute

func defaultBackoff(n int) time.Duration {
	d := 250 * time.Millisecond << (n - 1)
	if d > 8*time.Second || d <= 0 {
		d = 8 * time.Second
	}
	return d
}

// retry runs attempt until it succeeds, fails for good or the retries are spent.
func (c *Client) retry(req *http.Request, attempt func(*http.Request) (*http.Response, bool, error)) (*http.Response, error) {
	ctx := req.Context()
	for n := 1; ; n++ {
		res, retryable, err := attempt(req)
		if !retryable || n > c.cfg.MaxRetries {
			if err != nil && retryable {
				return nil, fmt.Errorf("%s %s (gave up after %d attempts): %w", req.Method, req.URL.Path, n, err)
			}
			return res, err
		}
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return res, err // the body cannot be sent again
		}
		wait := c.wait(n, res)
		if deadline, ok := ctx.Deadline(); ok && c.cfg.Clock().Add(wait).After(deadline) {
			return res, err
		}
		ev := c.cfg.Logger.Warn().Str("method", req.Method).Str("path", req.URL.Path).Int("attempt", n).
			Int64("retry_in_ms", wait.Milliseconds())
		if res != nil {
			ev = ev.Int("status", res.StatusCode)
		}
		ev.Err(err).Msg("elasticsearch request failed, will retry")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait to retry %s %s: %w", req.Method, req.URL.Path, ctx.Err())
		case <-t.C:
		}
		noticeRetry(ctx)
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, fmt.Errorf("rewind request body: %w", gerr)
			}
			req.Body = body
		}
	}
}

// wait is the pause before retry n: jittered backoff, or Retry-After.
func (c *Client) wait(n int, res *http.Response) time.Duration {
	d := c.cfg.Backoff(n)
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if res != nil {
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			if ra := min(time.Duration(s)*time.Second, maxRetryAfter); ra > d {
				d = ra
			}
		}
	}
	return d
}

// retryableStatus reports whether another attempt may get a better answer.
func retryableStatus(status int, body []byte) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return !bytes.Contains(body, []byte("circuit_breaking_exception")) &&
			!bytes.Contains(body, []byte("too_many_buckets_exception"))
	}
	return false
}

// retryableTransportError reports whether a network error may pass on
// another attempt (possibly on another node): TLS verification failures and
// cancellations are final.
func retryableTransportError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
		ce       *connError
	)
	// A cancelled parent context never gets here (attempt checks it first),
	// so a deadline is the attempt's own timeout: worth another attempt.
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, errFingerprintMismatch), errors.As(err, &ce),
		errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &record), errors.As(err, &verify):
		return false
	}
	return true
}
