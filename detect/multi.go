package detect

import (
	"context"
	"errors"
	"fmt"

	"github.com/esrule/esrule/esquery"
)

// multiFieldPage decides one phase-1 page of a rule with 2–3 fields in
// batches without crowding loss (docs/semantics.md, phase 2 and D4).
// pageAfter is the key that produced the page (nil for the first page). It
// reports whether max_signals stopped the run.
func (x *execution) multiFieldPage(ctx context.Context, buckets []esquery.Bucket, pageAfter esquery.Key) (bool, error) {
	keys := make([]esquery.Key, 0, len(buckets))
	for _, b := range buckets {
		if !hasNil(b.Key) {
			keys = append(keys, b.Key)
		}
	}
	prev := pageAfter
	size, clauseHalvings := x.cfg.BatchSize, 0
	for i := 0; i < len(keys); {
		n := min(size, len(keys)-i)
		batch := keys[i : i+n]
		newKeys, err := x.decideBatch(ctx, batch, prev)
		switch {
		case err != nil && n > 1 && errors.Is(err, esquery.ErrTooManyClauses) && clauseHalvings < x.cfg.MaxClauseHalvings:
			clauseHalvings++
			size = n / 2
			x.warn(fmt.Sprintf("%s: too many clauses, batch size reduced to %d", phaseHistory, size))
			continue
		case err != nil && n > 1 && errors.Is(err, esquery.ErrTooLarge):
			size = n / 2
			x.cfg.HistoryPageSize = max(1, x.cfg.HistoryPageSize/2)
			x.warn(fmt.Sprintf("%s: response too large, batch size reduced to %d", phaseHistory, size))
			continue
		case err != nil:
			return false, err
		}
		x.res.NewTerms += len(newKeys)
		if len(newKeys) > 0 {
			stop, err := x.fetchMulti(ctx, newKeys)
			if err != nil || stop {
				return stop, err
			}
		}
		prev = batch[n-1]
		i += n
	}
	return false, nil
}

func hasNil(k esquery.Key) bool {
	for _, v := range k {
		if v == nil {
			return true
		}
	}
	return false
}

// decideBatch returns the new combinations of batch, in batch order. It pages
// the history composite, restricted to documents holding one of the batch's
// combinations, from start (the key before the batch's first key) until it
// has passed the batch's last key, so extra combinations that array-valued
// history documents add cannot crowd batch combinations out of the page.
func (x *execution) decideBatch(ctx context.Context, batch []esquery.Key, start esquery.Key) ([]esquery.Key, error) {
	index := make(map[string]int, len(batch))
	for j, k := range batch {
		index[esquery.KeyID(k)] = j
	}
	lastID := esquery.KeyID(batch[len(batch)-1])
	decided := make([]bool, len(batch))
	isNew := make([]bool, len(batch))
	remaining := len(batch)
	after := start
	for remaining > 0 {
		body, err := x.q.HistoryComposite(x.w.History(), batch, after, x.cfg.HistoryPageSize)
		if err != nil {
			return nil, err
		}
		resp, err := x.search(ctx, phaseHistory, body)
		if err != nil {
			return nil, err
		}
		page, err := x.q.DecodeComposite(resp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", phaseHistory, err)
		}
		passedLast := false
		for _, b := range page.Buckets {
			id := esquery.KeyID(b.Key)
			if j, ok := index[id]; ok && !decided[j] {
				decided[j] = true
				remaining--
				isNew[j] = b.HasFirstSeen && b.FirstSeen > x.fromMs
			}
			passedLast = passedLast || id == lastID
		}
		if passedLast || page.AfterKey == nil {
			break
		}
		after = page.AfterKey
	}
	if remaining > 0 {
		x.warn(fmt.Sprintf("%s: %d combination(s) seen in the rule interval were not found in the history window; treated as not new", phaseHistory, remaining))
	}
	var out []esquery.Key
	for j, k := range batch {
		if isNew[j] {
			out = append(out, k)
		}
	}
	return out, nil
}

// fetchMulti runs phase 3 for new combinations (in composite key order): one
// filters bucket per combination with its oldest document in the rule
// interval, in chunks of BatchSize halved on too-large responses (D6). The
// candidates are offered in key order. It reports whether max_signals stopped
// the run.
func (x *execution) fetchMulti(ctx context.Context, keys []esquery.Key) (bool, error) {
	err := inHalvingBatches(x, phaseDocFetch, keys, x.cfg.BatchSize, func(chunk []esquery.Key) error {
		body, err := x.q.DocFetchFilters(x.w.Recent(), chunk)
		if err != nil {
			return err
		}
		resp, err := x.search(ctx, phaseDocFetch, body)
		if err != nil {
			return err
		}
		docs, err := x.q.DecodeFilters(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", phaseDocFetch, err)
		}
		if len(docs) != len(chunk) {
			if resp.Shards == 0 {
				return nil
			}
			return fmt.Errorf("%s: %d buckets for %d combinations", phaseDocFetch, len(docs), len(chunk))
		}
		cands := make([]candidate, 0, len(chunk))
		for j, b := range docs {
			if b.Doc == nil {
				x.warn(fmt.Sprintf("%s: no document for new combination %v in the rule interval; skipped", phaseDocFetch, chunk[j]))
				continue
			}
			cands = append(cands, candidate{hit: *b.Doc, terms: chunk[j]})
		}
		return x.offer(ctx, cands)
	})
	return stopped(err)
}
