package esclient

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Result is a completed request: its status, headers and whole body.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Err is nil for a 2xx status and the decoded *Error otherwise.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	return DecodeError(r.Status, r.Body)
}

// Do sends req through t and reads the whole body (within
// DefaultMaxResponseBytes when t is not a *Client, which bounds it itself).
// Only transport failures are errors: the caller decides what a status means.
func Do(ctx context.Context, t esapi.Transport, req esapi.Request) (Result, error) {
	res, err := req.Do(ctx, t)
	if err != nil {
		return Result{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, DefaultMaxResponseBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("read response: %w", err)
	}
	if len(b) > DefaultMaxResponseBytes {
		return Result{}, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, DefaultMaxResponseBytes)
	}
	return Result{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// Call is Do with every status other than 2xx turned into an *Error.
func Call(ctx context.Context, t esapi.Transport, req esapi.Request) (Result, error) {
	r, err := Do(ctx, t, req)
	if err != nil {
		return r, err
	}
	return r, r.Err()
}
