package backfill

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/esrule/esrule/esquery"
)

// The scan finds first occurrences term by term, the writer needs them slot
// by slot. sorter is the external sort between the two (docs/backfill.md,
// memory): records are buffered up to runRecords, a full buffer is sorted
// and appended to a temporary file as a run, and the runs are merged in slot
// order at the end, so memory is bounded by runRecords and the runs' read
// buffers, not by the number of first occurrences. A scan whose records fit
// in one buffer never touches the disk.

// defaultRunRecords is the records buffered before a run is spilled (about
// 100 bytes each in memory).
const defaultRunRecords = 1 << 16

// runReadBuffer is the read buffer of each run during the merge.
const runReadBuffer = 16 << 10

// sortedRecord is a record with its place in the scan's order: partition,
// then the partition's own (composite) order. Sorting by slot, partition and
// sequence gives the order of a stable sort by slot of the records of all
// partitions joined in partition order.
type sortedRecord struct {
	record
	part int32
	seq  int64
}

func compareRecords(a, b *sortedRecord) int {
	return cmp.Or(cmp.Compare(a.slot, b.slot), cmp.Compare(a.part, b.part), cmp.Compare(a.seq, b.seq))
}

// sorter collects records from concurrent partitions and returns them in
// slot order.
type sorter struct {
	dir        string // for the temporary file; "" is os.TempDir
	runRecords int

	mu     sync.Mutex
	buf    []sortedRecord
	file   *os.File
	offset int64
	runs   []spillRun
	count  int64
	enc    bytes.Buffer
}

// spillRun is one spilled run: where its bytes are in the file.
type spillRun struct {
	offset, length int64
}

func newSorter(dir string, runRecords int) *sorter {
	if runRecords <= 0 {
		runRecords = defaultRunRecords
	}
	return &sorter{dir: dir, runRecords: runRecords}
}

// add takes the records of partition part, seq numbering them in the
// partition's order (seq is the sequence number of recs[0]).
func (s *sorter) add(part int, seq int64, recs []record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rc := range recs {
		s.buf = append(s.buf, sortedRecord{record: rc, part: int32(part), seq: seq + int64(i)})
		s.count++
		if len(s.buf) >= s.runRecords {
			if err := s.spill(); err != nil {
				return err
			}
		}
	}
	return nil
}

// spill sorts the buffer and appends it to the file as a run (s.mu held).
func (s *sorter) spill() error {
	if len(s.buf) == 0 {
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "esrule-backfill-*.runs")
		if err != nil {
			return fmt.Errorf("create the first-occurrence spill file: %w", err)
		}
		// Unlinked at once where the system allows it (Unix): nothing is
		// left behind if the process dies; elsewhere close removes it.
		_ = os.Remove(f.Name())
		s.file = f
	}
	slices.SortFunc(s.buf, func(a, b sortedRecord) int { return compareRecords(&a, &b) })
	s.enc.Reset()
	for i := range s.buf {
		if err := encodeRecord(&s.enc, &s.buf[i]); err != nil {
			return err
		}
	}
	n, err := s.file.Write(s.enc.Bytes())
	if err != nil {
		return fmt.Errorf("write first occurrences to %s: %w", s.file.Name(), err)
	}
	s.runs = append(s.runs, spillRun{offset: s.offset, length: int64(n)})
	s.offset += int64(n)
	clear(s.buf) // drop the keys for the collector
	s.buf = s.buf[:0]
	if s.enc.Cap() > 4<<20 {
		s.enc = bytes.Buffer{}
	}
	return nil
}

// len is the number of records added.
func (s *sorter) len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// close removes the temporary file.
func (s *sorter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		name := s.file.Name()
		_ = s.file.Close()
		_ = os.Remove(name) // already unlinked where the system allows it
		s.file = nil
	}
	s.buf = nil
}

// records returns the records in slot order. The sorter must not be added
// to afterwards.
func (s *sorter) records() (recordSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, func(a, b sortedRecord) int { return compareRecords(&a, &b) })
		return &memorySource{recs: s.buf}, nil
	}
	if err := s.spill(); err != nil {
		return nil, err
	}
	s.buf = nil
	m := &mergeSource{}
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r.offset, r.length), runReadBuffer)}
		ok, err := rr.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, rr)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// recordSource yields records in slot order.
type recordSource interface {
	// next returns the next record; ok is false at the end.
	next() (rc record, ok bool, err error)
}

type memorySource struct {
	recs []sortedRecord
	i    int
}

func (m *memorySource) next() (record, bool, error) {
	if m.i >= len(m.recs) {
		return record{}, false, nil
	}
	rc := m.recs[m.i].record
	m.recs[m.i] = sortedRecord{} // let the key go
	m.i++
	return rc, true, nil
}

// mergeSource is the k-way merge of the spilled runs.
type mergeSource struct {
	h runHeap
}

func (m *mergeSource) next() (record, bool, error) {
	if len(m.h) == 0 {
		return record{}, false, nil
	}
	top := m.h[0]
	rc := top.cur.record
	ok, err := top.advance()
	if err != nil {
		return record{}, false, err
	}
	if ok {
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return rc, true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareRecords(&h[i].cur, &h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// runReader reads one run record by record.
type runReader struct {
	r   *bufio.Reader
	cur sortedRecord
	key []byte
}

// advance reads the next record into cur; false at the run's end.
func (rr *runReader) advance() (bool, error) {
	rc, err := decodeRecord(rr.r, &rr.key)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read spilled first occurrences: %w", err)
	}
	rr.cur = rc
	return true, nil
}

// A spilled record: slot, partition and sequence (uvarints), x (varint),
// then the key as a JSON array with its length (uvarint) before it.
func encodeRecord(w *bytes.Buffer, rc *sortedRecord) error {
	var tmp [binary.MaxVarintLen64]byte
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(rc.slot))])
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(rc.part))])
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(rc.seq))])
	w.Write(tmp[:binary.PutVarint(tmp[:], rc.x)])
	key, err := json.Marshal([]any(rc.key))
	if err != nil {
		return fmt.Errorf("encode first-occurrence key %v: %w", rc.key, err)
	}
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(key)))])
	w.Write(key)
	return nil
}

func decodeRecord(r *bufio.Reader, keyBuf *[]byte) (sortedRecord, error) {
	var rc sortedRecord
	slot, err := binary.ReadUvarint(r)
	if err != nil {
		return rc, err // io.EOF at a record boundary: the run's end
	}
	part, err1 := binary.ReadUvarint(r)
	seq, err2 := binary.ReadUvarint(r)
	x, err3 := binary.ReadVarint(r)
	n, err4 := binary.ReadUvarint(r)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return rc, noEOF(err)
	}
	if n > 1<<20 {
		return rc, fmt.Errorf("key of %d bytes", n)
	}
	if cap(*keyBuf) < int(n) {
		*keyBuf = make([]byte, n)
	}
	b := (*keyBuf)[:n]
	if _, err := io.ReadFull(r, b); err != nil {
		return rc, noEOF(err)
	}
	key, err := decodeKey(b)
	if err != nil {
		return rc, err
	}
	rc.record = record{slot: int32(slot), x: x, key: key}
	rc.part, rc.seq = int32(part), int64(seq)
	return rc, nil
}

// decodeKey reads a key array, numbers as json.Number as the composite's
// keys are.
func decodeKey(b []byte) (esquery.Key, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("decode key %s: %w", b, err)
	}
	key := make(esquery.Key, len(raws))
	for i, raw := range raws {
		if string(raw) == "null" {
			continue
		}
		v, err := esquery.KeyValue(raw)
		if err != nil {
			return nil, err
		}
		key[i] = v
	}
	return key, nil
}

// noEOF turns an end of file inside a record into an error.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
