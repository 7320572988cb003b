package mappings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// response is a completed request: its status and whole body.
type response struct {
	status int
	body   []byte
}

func (r response) ok() bool { return r.status >= 200 && r.status < 300 }

// asError decodes an error body of Elasticsearch.
func (r response) asError() *esclient.Error { return esclient.DecodeError(r.status, r.body) }

// do performs req and reads its whole body. Transport errors are returned;
// HTTP error statuses are left to the caller.
func do(ctx context.Context, c esapi.Transport, req esapi.Request) (response, error) {
	r, err := esclient.Do(ctx, c, req)
	if err != nil {
		return response{}, err
	}
	return response{status: r.Status, body: r.Body}, nil
}

// expectOK performs req and turns any status other than 2xx into an error.
func expectOK(ctx context.Context, c esapi.Transport, req esapi.Request) (response, error) {
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
