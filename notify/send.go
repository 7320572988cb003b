package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SendError is a message the destination did not accept. Its text never
// holds the URL or headers.
type SendError struct {
	// Status is the HTTP status (0: no response, e.g. a timeout).
	Status int
	// Retryable is true for 408, 429, 5xx and transport failures.
	Retryable bool
	// RetryAfter is the receiver's Retry-After (0: none).
	RetryAfter time.Duration
	Reason     string
}

func (e *SendError) Error() string {
	if e.Status == 0 {
		return e.Reason
	}
	if e.Reason == "" {
		return fmt.Sprintf("status %d", e.Status)
	}
	return fmt.Sprintf("status %d: %s", e.Status, e.Reason)
}

// Payload returns the request body of action a for s.
func Payload(a Action, s Summary) ([]byte, error) {
	if a.Type == TypeSlack {
		return SlackPayload(s)
	}
	return WebhookPayload(a.Name, s)
}

// Send posts one message about s to a (its link template applied), with
// a.Timeout. now interprets an HTTP-date Retry-After. A non-nil error from
// the destination is a *SendError; a canceled ctx is returned as is.
func Send(ctx context.Context, client *http.Client, a Action, s Summary, now time.Time) error {
	a = a.withDefaults()
	link, err := parseLinkTemplate(a.LinkTemplate)
	if err != nil {
		return fmt.Errorf("parse link template of action %s: %w", a.Name, err)
	}
	if s, err = s.withLink(link); err != nil {
		return err
	}
	body, err := Payload(a, s)
	if err != nil {
		return err
	}
	return post(ctx, client, a, s.AlertID, body, now)
}

func post(ctx context.Context, client *http.Client, a Action, alertID string, body []byte, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		return &SendError{Reason: "build request (URL not shown)"}
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "esrule")
	}
	req.Header.Set("Idempotency-Key", alertID)
	res, err := client.Do(req)
	if err != nil {
		return transportError(ctx, err, a.Timeout)
	}
	defer res.Body.Close()
	snippet := readSnippet(res.Body, secretsOf(a))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	code := res.StatusCode
	return &SendError{
		Status:     code,
		Retryable:  code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500,
		RetryAfter: retryAfter(res.Header.Get("Retry-After"), now),
		Reason:     snippet,
	}
}

// snippetLen is how much of an error answer is kept.
const snippetLen = 512

// readSnippet returns the start of an error answer with the action's
// secrets redacted (a receiver may echo the request headers): it reads
// enough beyond snippetLen to see a secret that starts within it whole,
// redacts, then cuts.
func readSnippet(body io.Reader, secrets []string) string {
	extra := min(maxEncodedLen(secrets), 1<<20)
	b, _ := io.ReadAll(io.LimitReader(body, int64(snippetLen+extra)))
	text := redact(strings.ToValidUTF8(string(b), "?"), secrets)
	if len(text) > snippetLen {
		text = strings.ToValidUTF8(text[:snippetLen], "")
	}
	return strings.TrimSpace(text)
}

// transportError describes a request without response, without the URL
// that *url.Error would print.
func transportError(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return context.Canceled
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return &SendError{Retryable: true, Reason: fmt.Sprintf("no response within %s", timeout)}
		}
		err = ue.Err
	}
	return &SendError{Retryable: true, Reason: "send request: " + err.Error()}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
