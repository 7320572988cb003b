package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
