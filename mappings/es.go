package mappings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// ResponseError is an error response of Elasticsearch.
type ResponseError struct {
	Status int
	Type   string
	Reason string
}

func (e *ResponseError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch status %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch status %d: %s: %s", e.Status, e.Type, e.Reason)
}

// response is a completed request: its status and whole body.
type response struct {
	status int
	body   []byte
}

func (r response) ok() bool { return r.status >= 200 && r.status < 300 }

// asError decodes an error body of Elasticsearch.
func (r response) asError() *ResponseError {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	e := &ResponseError{Status: r.status}
	if json.Unmarshal(r.body, &body) != nil || len(body.Error) == 0 {
		return e
	}
	var detail struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body.Error, &detail) == nil && detail.Type != "" {
		e.Type, e.Reason = detail.Type, detail.Reason
		return e
	}
	var text string
	if json.Unmarshal(body.Error, &text) == nil {
		e.Reason = text
	}
	return e
}

// do performs req and reads its whole body. Transport errors are returned;
// HTTP error statuses are left to the caller.
func do(ctx context.Context, c *elasticsearch.Client, req esapi.Request) (response, error) {
	res, err := req.Do(ctx, c)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("read response: %w", err)
	}
	return response{status: res.StatusCode, body: b}, nil
}

// expectOK performs req and turns any status other than 2xx into an error.
func expectOK(ctx context.Context, c *elasticsearch.Client, req esapi.Request) (response, error) {
	r, err := do(ctx, c, req)
	if err != nil {
		return r, err
	}
	if !r.ok() {
		return r, r.asError()
	}
	return r, nil
}

func jsonBody(v any) io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mappings: encode request body: %v", err))
	}
	return bytes.NewReader(b)
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func isNotFound(r response) bool { return r.status == http.StatusNotFound }

// isAlreadyExists reports a create that lost a race with another creator.
func isAlreadyExists(r response) bool {
	return r.status == http.StatusBadRequest && r.asError().Type == "resource_already_exists_exception"
}
