package esclient

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// endlessFieldCaps answers _field_caps with a body that never ends and has
// no Content-Length: {"fields":{"f0":{...},"f1":{...},...
type endlessFieldCaps struct{ requests atomic.Int32 }

func (e *endlessFieldCaps) RoundTrip(req *http.Request) (*http.Response, error) {
	e.requests.Add(1)
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	entry := `"f":{"keyword":{"type":"keyword","metadata_field":false,"searchable":true,"aggregatable":true}},`
	r := io.MultiReader(strings.NewReader(`{"fields":{`), &repeater{s: entry})
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(r), Request: req, ContentLength: -1}, nil
}

type repeater struct {
	s   string
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

// TestFieldCapsResponseBounded: a field-caps answer larger than the
// response limit is refused after reading the limit, not decoded, not
// retried (issue 15: a 600 MB answer took 1.37 GB).
func TestFieldCapsResponseBounded(t *testing.T) {
	tr := &endlessFieldCaps{}
	const limit = 4 << 20
	c, err := New(Config{Addresses: []string{"http://es.test:9200"}, Transport: tr, MaxResponseBytes: limit})
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = c.FieldCaps(context.Background(), []string{"logs-*"}, []string{"user.name"})
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrResponseTooLarge)
	require.EqualValues(t, 1, tr.requests.Load(), "not retried")
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8*limit), "allocated about the limit, not the answer")
}
