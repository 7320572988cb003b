package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// bulkItemPaths cut bulk responses to what the loader reads.
var bulkItemPaths = []string{"errors", "items.*.status", "items.*.error.type", "items.*.error.reason"}

// bulkBatch is one bulk request: its NDJSON body and the documents in it,
// in order (kept for retries and failure reasons).
type bulkBatch struct {
	body bytes.Buffer
	docs []Doc
}

// bulkSender bulk-indexes documents with the create action on the low-level
// client: Add appends to a request body, safe for concurrent use; a body of
// flushBytes or more goes to one of workers goroutines, each sending one
// request at a time. The queue holds one request per worker, so a worker
// that finishes finds the next request ready while Add fills another.
type bulkSender struct {
	es         esapi.Transport
	flushBytes int
	outcome    func(Doc, bulkOutcome)

	mu    sync.Mutex
	cur   *bulkBatch
	queue chan *bulkBatch
	wg    sync.WaitGroup
	bytes uint64
	reqs  uint64
}

// bulkOutcome is what Elasticsearch answered for one item: its status, or
// err when the item has no answer (the request failed as a whole).
type bulkOutcome struct {
	status int
	reason string
	err    error
}

func newBulkSender(ctx context.Context, es esapi.Transport, workers, flushBytes int, outcome func(Doc, bulkOutcome)) *bulkSender {
	s := &bulkSender{es: es, flushBytes: flushBytes, outcome: outcome, queue: make(chan *bulkBatch, workers)}
	for range workers {
		s.wg.Go(func() {
			for b := range s.queue {
				s.send(ctx, b)
			}
		})
	}
	return s
}

// add appends d to the current request, handing it to a worker when full.
func (s *bulkSender) add(ctx context.Context, d Doc) error {
	meta, err := json.Marshal(map[string]any{"create": map[string]string{"_index": d.Index, "_id": d.ID}})
	if err != nil {
		return fmt.Errorf("encode bulk action of %s: %w", d.ID, err)
	}
	s.mu.Lock()
	if s.cur == nil {
		s.cur = &bulkBatch{}
		s.cur.body.Grow(s.flushBytes + len(meta) + len(d.Body) + 2)
	}
	b := s.cur
	b.body.Write(meta)
	b.body.WriteByte('\n')
	b.body.Write(bytes.TrimRight(d.Body, "\n"))
	b.body.WriteByte('\n')
	b.docs = append(b.docs, d)
	full := b.body.Len() >= s.flushBytes
	if full {
		s.cur = nil
	}
	s.mu.Unlock()
	if !full {
		return nil
	}
	select {
	case s.queue <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close sends the last request and waits for every request to finish. The
// items of a request that failed as a whole are reported as failures.
func (s *bulkSender) close(ctx context.Context) {
	s.mu.Lock()
	b := s.cur
	s.cur = nil
	s.mu.Unlock()
	if b != nil {
		select {
		case s.queue <- b:
		case <-ctx.Done():
			// Every worker may be gone: report the batch's documents as failed.
			s.failAll(b, ctx.Err())
		}
	}
	close(s.queue)
	s.wg.Wait()
}

func (s *bulkSender) send(ctx context.Context, b *bulkBatch) {
	s.mu.Lock()
	s.bytes += uint64(b.body.Len())
	s.reqs++
	s.mu.Unlock()
	res, err := esapi.BulkRequest{Body: bytes.NewReader(b.body.Bytes()), FilterPath: bulkItemPaths}.Do(ctx, s.es)
	if err != nil {
		s.failAll(b, fmt.Errorf("send bulk request: %w", err))
		return
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.failAll(b, fmt.Errorf("read bulk response: %w", err))
		return
	}
	if res.IsError() {
		s.failAll(b, fmt.Errorf("bulk request: %s: %s", res.Status(), excerptBytes(raw)))
		return
	}
	var parsed struct {
		Items []map[string]struct {
			Status int `json:"status"`
			Error  struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		s.failAll(b, fmt.Errorf("decode bulk response: %w", err))
		return
	}
	for i, d := range b.docs {
		if i >= len(parsed.Items) {
			// An answer without an item for each document: the rest are lost.
			s.outcome(d, bulkOutcome{err: fmt.Errorf("bulk response has %d items for %d documents", len(parsed.Items), len(b.docs))})
			continue
		}
		var o bulkOutcome
		for _, it := range parsed.Items[i] { // one action per item
			o = bulkOutcome{status: it.Status}
			if it.Error.Type != "" {
				o.reason = it.Error.Type + ": " + it.Error.Reason
			}
		}
		if o.status == 0 {
			o.err = fmt.Errorf("bulk response item %d has no status", i)
		}
		s.outcome(d, o)
	}
}

func (s *bulkSender) failAll(b *bulkBatch, err error) {
	for _, d := range b.docs {
		s.outcome(d, bulkOutcome{err: err})
	}
}

func excerptBytes(b []byte) string {
	const limit = 300
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
