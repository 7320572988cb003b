// Package kibana imports esrule's Kibana saved objects (a data view of the
// alerts, a saved search and a dashboard; saved-objects.ndjson) through
// Kibana's saved-objects import API, so that a Kibana without the Security
// app shows esrule's alerts without manual steps.
package kibana

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

//go:embed saved-objects.ndjson
var savedObjects []byte

// SavedObjects returns the NDJSON of esrule's saved objects: the data view
// esrule-alerts (esrule-alerts-*,.alerts-security.alerts-*), the saved search
// esrule-alerts-search and the dashboard esrule-alerts-dashboard with its
// visualizations.
func SavedObjects() []byte { return append([]byte(nil), savedObjects...) }

// DataViewID is the id of the alerts data view in SavedObjects.
const DataViewID = "esrule-alerts"

// SavedSearchID is the id of the saved search in SavedObjects.
const SavedSearchID = "esrule-alerts-search"

// maxResponseBytes bounds what is read of one Kibana response.
const maxResponseBytes = 1 << 20

// Client talks to one Kibana.
type Client struct {
	// URL is Kibana's base URL, with its base path if any
	// (https://kibana.example.com:5601, https://host/kibana).
	URL string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Authorization is the Authorization header ("ApiKey ...", "Basic ..."),
	// empty for none. It is a secret: never in errors or logs.
	Authorization string
	// AuthSource names where the credentials came from, for error messages.
	AuthSource string
	// Backoff is the wait before retry n (1-based) while Kibana is starting
	// (503, connection refused); nil means 2s. Retries last until ctx ends.
	Backoff func(attempt int) time.Duration
}

// ImportResult is Kibana's answer to an import.
type ImportResult struct {
	Success      bool          `json:"success"`
	SuccessCount int           `json:"successCount"`
	Errors       []ImportError `json:"errors"`
}

// ImportError is one object Kibana did not import.
type ImportError struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Title string `json:"title"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// StatusError is an HTTP error answer of Kibana.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("status %d", e.Status)
	}
	return fmt.Sprintf("status %d: %s", e.Status, e.Message)
}

// retryable reports whether Kibana may answer later: it is starting up or
// momentarily overloaded.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status == http.StatusServiceUnavailable || se.Status == http.StatusBadGateway || se.Status == http.StatusGatewayTimeout
	}
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// ImportPath is the path of the import API of space ("" or "default": the
// default space, else /s/<space>), with overwrite=true: importing again
// replaces the objects, so an import is idempotent.
func ImportPath(space string) string {
	prefix := ""
	if space != "" && space != "default" {
		prefix = "/s/" + url.PathEscape(space)
	}
	return prefix + "/api/saved_objects/_import?overwrite=true"
}

// Import imports ndjson into space, retrying while Kibana is not ready yet
// (until ctx ends). Objects that Kibana refuses make an error naming them.
func (c *Client) Import(ctx context.Context, space string, ndjson []byte) (ImportResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := c.importOnce(ctx, space, ndjson)
		if err == nil || !retryable(err) {
			return res, err
		}
		wait := 2 * time.Second
		if c.Backoff != nil {
			wait = c.Backoff(attempt)
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("%w (still not ready: %w)", err, ctx.Err())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("%w (still not ready: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) importOnce(ctx context.Context, space string, ndjson []byte) (ImportResult, error) {
	base := strings.TrimRight(c.URL, "/")
	endpoint := base + ImportPath(space)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="esrule.ndjson"`)
	h.Set("Content-Type", "application/ndjson")
	part, err := mw.CreatePart(h)
	if err != nil {
		return ImportResult{}, fmt.Errorf("build import request: %w", err)
	}
	if _, err := part.Write(ndjson); err != nil {
		return ImportResult{}, fmt.Errorf("build import request: %w", err)
	}
	if err := mw.Close(); err != nil {
		return ImportResult{}, fmt.Errorf("build import request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import saved objects into Kibana at %s: %w", base, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("kbn-xsrf", "esrule")
	if c.Authorization != "" {
		req.Header.Set("Authorization", c.Authorization)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import saved objects into Kibana at %s: %w", base, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return ImportResult{}, fmt.Errorf("import saved objects into Kibana at %s: read response: %w", base, err)
	}
	if res.StatusCode != http.StatusOK {
		return ImportResult{}, fmt.Errorf("import saved objects into Kibana at %s: %w", base, c.statusError(res.StatusCode, raw, space))
	}
	var out ImportResult
	if err := json.Unmarshal(raw, &out); err != nil {
		return ImportResult{}, fmt.Errorf("import saved objects into Kibana at %s: the answer is not Kibana's import result (is --kibana-url Kibana?): %w", base, err)
	}
	if !out.Success || len(out.Errors) > 0 {
		return out, fmt.Errorf("import saved objects into Kibana at %s: %d imported, %d refused: %s", base, out.SuccessCount, len(out.Errors), describe(out.Errors))
	}
	return out, nil
}

// statusError explains an error status of the import API.
func (c *Client) statusError(status int, raw []byte, space string) error {
	var body struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	msg := body.Message
	if msg == "" {
		msg = body.Error
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	switch status {
	case http.StatusUnauthorized:
		src := c.AuthSource
		if src == "" {
			src = "no credentials: set ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD, which Kibana accepts too"
		}
		msg = fmt.Sprintf("Kibana rejected the credentials (%s)", src)
	case http.StatusForbidden:
		msg = fmt.Sprintf("the credentials may not import saved objects (Kibana privilege: Saved Objects Management, or All on the space's Discover, Dashboard and Data View Management): %s", msg)
	case http.StatusNotFound:
		msg = fmt.Sprintf("no saved-objects import API at %s (is --kibana-url Kibana's base URL, with its base path? does space %q exist?)", ImportPath(space), space)
	}
	return &StatusError{Status: status, Message: msg}
}

// describe lists the first refused objects.
func describe(errs []ImportError) string {
	var parts []string
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-i))
			break
		}
		p := fmt.Sprintf("%s %s: %s", e.Type, e.ID, e.Error.Type)
		if e.Error.Message != "" {
			p += " (" + e.Error.Message + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
