package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var sendNow = time.Date(2024, 5, 13, 3, 0, 0, 0, time.UTC)

func TestSendClassifiesResponses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       *SendError // nil: success
	}{
		{name: "ok", status: 200},
		{name: "accepted", status: 202},
		{name: "too many requests", status: 429, retryAfter: "7", want: &SendError{Status: 429, Retryable: true, RetryAfter: 7 * time.Second, Reason: "body"}},
		{name: "http date retry-after", status: 503, retryAfter: sendNow.Add(90 * time.Second).Format(http.TimeFormat), want: &SendError{Status: 503, Retryable: true, RetryAfter: 90 * time.Second, Reason: "body"}},
		{name: "server error", status: 500, want: &SendError{Status: 500, Retryable: true, Reason: "body"}},
		{name: "request timeout", status: 408, want: &SendError{Status: 408, Retryable: true, Reason: "body"}},
		{name: "not found is permanent", status: 404, want: &SendError{Status: 404, Reason: "body"}},
		{name: "bad request is permanent", status: 400, want: &SendError{Status: 400, Reason: "body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, "body")
			}))
			defer srv.Close()
			err := Send(context.Background(), srv.Client(), Action{Name: "a", Type: TypeWebhook, URL: srv.URL}, sampleSummary(), sendNow)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var se *SendError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.want, se)
		})
	}
}

func TestSendHeadersAndBody(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	a := Action{Name: "a", Type: TypeWebhook, URL: srv.URL + "/hook", Headers: map[string]string{"Authorization": "Bearer s3cret"}}
	require.NoError(t, Send(context.Background(), srv.Client(), a, sampleSummary(), sendNow))
	require.Equal(t, http.MethodPost, got.Method)
	require.Equal(t, "/hook", got.URL.Path)
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.Equal(t, "Bearer s3cret", got.Header.Get("Authorization"))
	require.Equal(t, sampleSummary().AlertID, got.Header.Get("Idempotency-Key"))
	require.Contains(t, string(body), `"alert_id":"`+sampleSummary().AlertID+`"`)
}

func TestSendErrorsNeverShowTheURL(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	tests := []struct {
		name, url string
		timeout   time.Duration
		wantText  string
	}{
		{name: "timeout", url: slow.URL + "/services/T000/B000/secret-token", timeout: 50 * time.Millisecond, wantText: "no response within 50ms"},
		{name: "connection refused", url: downURL + "/services/T000/B000/secret-token", timeout: time.Second, wantText: "send request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Send(context.Background(), http.DefaultClient, Action{Name: "a", Type: TypeSlack, URL: tt.url, Timeout: tt.timeout}, sampleSummary(), sendNow)
			var se *SendError
			require.ErrorAs(t, err, &se)
			require.True(t, se.Retryable)
			require.Contains(t, err.Error(), tt.wantText)
			require.NotContains(t, err.Error(), "secret-token")
		})
	}
}

func TestSendCanceledIsNotAFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	err := Send(ctx, srv.Client(), Action{Name: "a", Type: TypeWebhook, URL: srv.URL}, sampleSummary(), sendNow)
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}
