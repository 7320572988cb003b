// Package privileges checks that the credential esrule runs with may read a
// rule's source indices. Searches use ignore_unavailable, with which
// Elasticsearch silently leaves out the indices the credential may not read:
// a rule over an index it cannot read would find nothing and succeed. The
// check asks _security/user/_has_privileges instead, once per index list.
package privileges

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// readActions are the actions a rule performs on its source indices; the
// read privilege grants both.
var readActions = []string{"indices:data/read/search", "indices:data/read/field_caps"}

// maxResponseBytes bounds the _has_privileges answer (one entry per pattern).
const maxResponseBytes = 1 << 20

// Checker asks Elasticsearch once per index list whether the credential may
// read it, and remembers the lists it may. It is safe for concurrent use.
type Checker struct {
	tr esapi.Transport

	mu       sync.Mutex
	readable map[string]bool
	noSec    bool // security is off: nothing to check
}

// NewChecker returns a Checker sending its requests through tr.
func NewChecker(tr esapi.Transport) *Checker {
	return &Checker{tr: tr, readable: map[string]bool{}}
}

// MissingError names the index patterns and the actions the credential
// lacks on them.
type MissingError struct {
	Missing map[string][]string // index pattern → actions not granted
}

func (e *MissingError) Error() string {
	patterns := make([]string, 0, len(e.Missing))
	for p := range e.Missing {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	parts := make([]string, len(patterns))
	for i, p := range patterns {
		parts[i] = fmt.Sprintf("%s on %s", strings.Join(e.Missing[p], " and "), p)
	}
	return "the credential may not read the source indices (403 hidden by ignore_unavailable): it lacks " +
		strings.Join(parts, "; ") + "; grant the read privilege on them (see deploy/roles/esrule-runner.json)"
}

// CheckRead returns a *MissingError when the credential lacks a read action
// on one of indices (a rule's index list). Remote (cluster:index),
// excluded (-index) and date-math (<...>) patterns are not checked: the
// local cluster cannot say. On a cluster without security it returns nil.
func (c *Checker) CheckRead(ctx context.Context, indices []string) error {
	names := checkable(indices)
	if len(names) == 0 {
		return nil
	}
	key := strings.Join(names, ",")
	c.mu.Lock()
	done := c.noSec || c.readable[key]
	c.mu.Unlock()
	if done {
		return nil
	}
	missing, noSec, err := c.ask(ctx, names)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if noSec {
		c.noSec = true
		return nil
	}
	if len(missing) > 0 {
		return &MissingError{Missing: missing}
	}
	c.readable[key] = true
	return nil
}

// checkable splits comma lists and keeps the local, included, plain patterns.
func checkable(indices []string) []string {
	var out []string
	for _, entry := range indices {
		for _, p := range strings.Split(entry, ",") {
			p = strings.TrimSpace(p)
			if p == "" || strings.HasPrefix(p, "-") || strings.HasPrefix(p, "<") || strings.Contains(p, ":") {
				continue
			}
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (c *Checker) ask(ctx context.Context, names []string) (missing map[string][]string, noSecurity bool, err error) {
	body, _ := json.Marshal(map[string]any{"index": []any{map[string]any{"names": names, "privileges": readActions}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/_security/user/_has_privileges", bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("check read privileges: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.tr.Perform(req)
	if err != nil {
		return nil, false, fmt.Errorf("check read privileges on %s: %w", strings.Join(names, ","), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("check read privileges: read response: %w", err)
	}
	if len(b) > maxResponseBytes {
		return nil, false, fmt.Errorf("check read privileges: response larger than %d bytes", maxResponseBytes)
	}
	if res.StatusCode == http.StatusBadRequest && bytes.Contains(b, []byte("no handler found")) {
		return nil, true, nil // security is disabled: the API does not exist
	}
	if res.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("check read privileges on %s: status %d: %s", strings.Join(names, ","), res.StatusCode, shorten(b))
	}
	var out struct {
		HasAllRequested *bool                      `json:"has_all_requested"`
		Index           map[string]map[string]bool `json:"index"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false, fmt.Errorf("check read privileges: decode response: %w", err)
	}
	if out.HasAllRequested == nil {
		return nil, true, nil // not an answer of _has_privileges (a stand-in without security)
	}
	missing = map[string][]string{}
	for _, n := range names {
		for _, a := range readActions {
			if !out.Index[n][a] {
				missing[n] = append(missing[n], a)
			}
		}
	}
	return missing, false, nil
}

func shorten(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
