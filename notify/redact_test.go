package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSendRedactsEchoedSecrets: a receiver that echoes the request (raw,
// as JSON, URL-encoded, with the secret straddling the kept length) never
// gets a configured header value or the URL into the error.
func TestSendRedactsEchoedSecrets(t *testing.T) {
	const secret = `s3cr3t-t0ken/with"quote&amp`
	echoes := map[string]func(r *http.Request) string{
		"raw headers": func(r *http.Request) string {
			var b strings.Builder
			_ = r.Header.Write(&b)
			return b.String()
		},
		"json headers": func(r *http.Request) string {
			b, _ := json.Marshal(r.Header)
			return string(b)
		},
		"query escaped": func(r *http.Request) string { return "token=" + url.QueryEscape(r.Header.Get("X-Token")) },
		"straddling the cut": func(r *http.Request) string {
			return strings.Repeat("x", snippetLen-5) + r.Header.Get("X-Token") + " and more"
		},
		"path echoed": func(r *http.Request) string { return "no route for " + r.URL.Path },
	}
	for name, echo := range echoes {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, echo(r))
			}))
			defer srv.Close()
			a := Action{Name: "a", Type: TypeWebhook, URL: srv.URL + "/hooks/T000/B000/XXXXsecretpath",
				Headers: map[string]string{"X-Token": secret}}
			err := Send(context.Background(), srv.Client(), a, sampleSummary(), sendNow)
			require.Error(t, err)
			msg := err.Error()
			for _, form := range append(encodings(secret), "XXXXsecretpath", "s3cr3t", "/hooks/T000/B000/XXXXsecretpath") {
				require.NotContains(t, msg, form, "error: %s", msg)
			}
			require.LessOrEqual(t, len(msg), snippetLen+len("status 400: "))
			require.NotContains(t, msg, "s3cr", "not even a prefix of the secret")
		})
	}
}
