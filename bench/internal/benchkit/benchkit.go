// Package benchkit holds the small helpers the benchmark programs in bench/
// share: environment defaults, plain Elasticsearch requests, clean-up of a
// bench alerts space, and the process's peak memory and CPU time.
package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/esrule/esrule/mappings"
)

// EnvOr returns $name, or def when it is unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// NewRequest builds a request for the client's Perform, with a JSON content
// type when there is a body.
func NewRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Call performs one request with an optional JSON body and fails on error statuses.
func Call(ctx context.Context, c *elasticsearch.Client, method, path, body string) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := NewRequest(ctx, method, path, rd)
	if err != nil {
		return err
	}
	res, err := c.Perform(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	return nil
}

// CleanupSpace deletes the alerts indices and template of a bench space.
func CleanupSpace(c *elasticsearch.Client, space string) {
	ctx := context.Background()
	if res, err := c.Indices.Delete([]string{mappings.AlertsAlias(space) + "-*"}, c.Indices.Delete.WithContext(ctx)); err == nil {
		res.Body.Close()
	}
	if res, err := c.Indices.DeleteIndexTemplate(mappings.AlertsTemplate(space), c.Indices.DeleteIndexTemplate.WithContext(ctx)); err == nil {
		res.Body.Close()
	}
}

// PeakRSSKiB is VmHWM from /proc/self/status (0 where unavailable).
func PeakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// CPUTime is the user plus system CPU time of this process so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoadAvg is the first three fields of /proc/loadavg (the 1, 5 and 15
// minute load averages), or "n/a" where unavailable.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
