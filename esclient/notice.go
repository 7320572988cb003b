package esclient

import "context"

// retryNoticeKey carries the function WithRetryNotice registers.
type retryNoticeKey struct{}

// WithRetryNotice returns a context under which the client calls notice
// each time it sends a request again after an attempt whose outcome it
// could not read (an error status, a cut answer, a network error). A caller
// whose request is not idempotent by itself learns so that an earlier
// attempt may have been applied: the alert writer then recognises its own
// documents among the 409s of the retry.
func WithRetryNotice(ctx context.Context, notice func()) context.Context {
	return context.WithValue(ctx, retryNoticeKey{}, notice)
}

func noticeRetry(ctx context.Context) {
	if f, ok := ctx.Value(retryNoticeKey{}).(func()); ok && f != nil {
		f()
	}
}
