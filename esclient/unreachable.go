package esclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
)

// UnreachableError is a request that got no answer from Elasticsearch: the
// connection was refused, timed out, was reset, or the host is unknown. Its
// message names the URL and the setting the URL came from
// (Config.AddressSource), so that the fix is obvious.
type UnreachableError struct {
	URL, Source string
	Err         error
}

func (e *UnreachableError) Error() string {
	what := "cannot be reached"
	var dns *net.DNSError
	switch {
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		what = "refused the connection"
	case errors.As(e.Err, &dns):
		what = "has a host name that does not resolve"
	case errors.Is(e.Err, syscall.ECONNRESET):
		what = "closed the connection"
	}
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() {
		what = "did not answer in time"
	}
	return fmt.Sprintf("Elasticsearch at %s (from %s) %s: %v", e.URL, e.Source, what, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// unreachable wraps a transport error of req that is neither a cancellation
// nor a TLS failure (tlsError handles those) in an *UnreachableError.
func (c *Client) unreachable(req *http.Request, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ue := (*UnreachableError)(nil); errors.As(err, &ue) {
		return err
	}
	return &UnreachableError{URL: req.URL.Scheme + "://" + req.URL.Host, Source: c.addressOrigin(), Err: err}
}

// addressOrigin names the setting the Elasticsearch URLs came from.
func (c *Client) addressOrigin() string {
	if c.cfg.AddressSource != "" {
		return c.cfg.AddressSource
	}
	if c.cfg.CloudID != "" {
		return "the Cloud ID"
	}
	return "the default: none of --es-url, ELASTICSEARCH_URL, ELASTICSEARCH_HOSTS, ELASTICSEARCH_CLOUD_ID or the config file's url is set"
}

// Cause returns the part of err that says why Elasticsearch could not be
// used at all: the unreachable URL and its setting (*UnreachableError), or the
// rejected credential or untrusted certificate and its setting (IsSetupError);
// nil for other errors (an error answer, a missing index). /readyz and serve's
// log show it instead of the step that failed.
func Cause(err error) error {
	if ue := (*UnreachableError)(nil); errors.As(err, &ue) {
		return ue
	}
	if ce := (*connError)(nil); errors.As(err, &ce) {
		return ce
	}
	return nil
}
