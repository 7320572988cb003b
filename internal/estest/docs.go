package estest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Documents is an in-memory document store behind a Transport: the get,
// index and create APIs of Elasticsearch with sequence numbers and
// optimistic concurrency (if_seq_no and if_primary_term, op_type=create),
// answering 404 for missing documents and 409 for conflicts.
type Documents struct {
	mu    sync.Mutex
	term  int64
	seq   map[string]int64 // index → last sequence number
	items map[string]storedDoc
}

type storedDoc struct {
	seqNo, term, version int64
	source               json.RawMessage
}

// ServeDocuments routes the document APIs of t to a new store and returns it.
func (t *Transport) ServeDocuments() *Documents {
	d := &Documents{term: 1, seq: map[string]int64{}, items: map[string]storedDoc{}}
	t.OnFunc("", "/*/_doc/*", d.serve)
	t.OnFunc("", "/*/_create/*", d.serve)
	return d
}

// Source returns the stored source of index/id (nil when absent).
func (d *Documents) Source(index, id string) json.RawMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.items[index+"/"+id].source
}

// Put stores a document directly (setup), as a successful index would.
func (d *Documents) Put(index, id string, source any) {
	b, err := json.Marshal(source)
	if err != nil {
		panic(fmt.Sprintf("estest: encode document: %v", err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.store(index, id, b)
}

func (d *Documents) store(index, id string, src []byte) storedDoc {
	d.seq[index]++
	prev := d.items[index+"/"+id]
	s := storedDoc{seqNo: d.seq[index] - 1, term: d.term, version: prev.version + 1, source: src}
	d.items[index+"/"+id] = s
	return s
}

func (d *Documents) serve(req Request) Reply {
	parts := strings.Split(strings.TrimPrefix(req.Path, "/"), "/")
	if len(parts) != 3 {
		return Error(http.StatusBadRequest, "illegal_argument_exception", "unsupported path "+req.Path)
	}
	index, api, id := parts[0], parts[1], parts[2]
	d.mu.Lock()
	defer d.mu.Unlock()
	key := index + "/" + id
	cur, exists := d.items[key]
	head := map[string]any{"_index": index, "_id": id}
	switch {
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		if !exists {
			head["found"] = false
			return Value(http.StatusNotFound, head)
		}
		head["found"], head["_seq_no"], head["_primary_term"], head["_version"] = true, cur.seqNo, cur.term, cur.version
		head["_source"] = cur.source
		return Value(http.StatusOK, head)
	case req.Method == http.MethodDelete:
		if !exists {
			head["result"] = "not_found"
			return Value(http.StatusNotFound, head)
		}
		delete(d.items, key)
		head["result"] = "deleted"
		return Value(http.StatusOK, head)
	case req.Method != http.MethodPut && req.Method != http.MethodPost:
		return Error(http.StatusMethodNotAllowed, "illegal_argument_exception", "method "+req.Method)
	}
	create := api == "_create" || req.Query.Get("op_type") == "create"
	conflict := func(reason string) Reply {
		return Error(http.StatusConflict, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, %s", id, reason))
	}
	if create && exists {
		return conflict("document already exists (current version [" + strconv.FormatInt(cur.version, 10) + "])")
	}
	if s := req.Query.Get("if_seq_no"); s != "" {
		seq, err1 := strconv.ParseInt(s, 10, 64)
		term, err2 := strconv.ParseInt(req.Query.Get("if_primary_term"), 10, 64)
		if err1 != nil || err2 != nil {
			return Error(http.StatusBadRequest, "illegal_argument_exception", "invalid if_seq_no or if_primary_term")
		}
		if !exists {
			return conflict(fmt.Sprintf("required seqNo [%d], primary term [%d] but no document was found", seq, term))
		}
		if cur.seqNo != seq || cur.term != term {
			return conflict(fmt.Sprintf("required seqNo [%d], primary term [%d]. current document has seqNo [%d] and primary term [%d]", seq, term, cur.seqNo, cur.term))
		}
	}
	if !json.Valid(req.Body) {
		return Error(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse")
	}
	s := d.store(index, id, req.Body)
	status, result := http.StatusOK, "updated"
	if !exists {
		status, result = http.StatusCreated, "created"
	}
	head["result"], head["_seq_no"], head["_primary_term"], head["_version"] = result, s.seqNo, s.term, s.version
	head["_shards"] = map[string]any{"total": 1, "successful": 1, "failed": 0}
	return Value(status, head)
}
