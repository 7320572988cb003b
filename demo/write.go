package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
)

// WriteStats counts what Write wrote.
type WriteStats struct {
	Documents int
	// Bytes is the size of the documents alone.
	Bytes int
}

// Write writes every document of g to w, one per line; with bulk, each
// document follows its _bulk action line ({"create":{"_index","_id"}}), so
// that the output is a _bulk request body.
func Write(w io.Writer, g *Generator, bulk bool) (WriteStats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var s WriteStats
	err := g.Each(func(d Doc) error {
		if bulk {
			action, err := json.Marshal(map[string]any{"create": map[string]string{"_index": d.Index, "_id": d.ID}})
			if err != nil {
				return err
			}
			bw.Write(action)
			bw.WriteByte('\n')
		}
		bw.Write(d.Body)
		s.Bytes += len(d.Body)
		s.Documents++
		return bw.WriteByte('\n')
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return s, fmt.Errorf("write documents: %w", err)
	}
	return s, nil
}

// Log logs the document count, size and throughput of a write of g that
// took took.
func (s WriteStats) Log(log zerolog.Logger, g *Generator, took time.Duration) {
	log.Info().Str("generator", g.String()).Int("documents", s.Documents).Int("bytes", s.Bytes).
		Dur("event.duration", took).Float64("docs_per_second", float64(s.Documents)/took.Seconds()).Msg("generated demo data")
}
