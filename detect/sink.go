package detect

import (
	"context"
	"fmt"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/esquery"
)

// alertSink turns candidates into alerts with Kibana's max_signals loop
// (docs/alerts.md): chunks of 5×max_signals; ids already in the alerts index are
// dropped, except those written by this slot's execution (a re-run), which
// count toward this slot's quota; the rest is cut to max_signals minus what
// this execution already counts, with Kibana's warning when a creatable
// candidate was cut.
type alertSink struct {
	x     *execution
	max   int
	chunk int
	used  int // alerts counted toward max_signals
	opts  alerts.BuildOptions
}

func newAlertSink(x *execution) *alertSink {
	maxSignals := x.r.MaxSignals
	if maxSignals <= 0 {
		maxSignals = 100
	}
	opts := alerts.BuildOptions{
		Space:         x.r.Space,
		ExecutionUUID: x.res.ExecutionUUID,
		ExecutionType: alerts.ExecutionScheduled,
		KibanaVersion: x.e.KibanaVersion,
	}
	if x.options.ExecutionType == alerts.ExecutionManual {
		opts.ExecutionType = alerts.ExecutionManual
		opts.IntendedTimestamp = x.w.Slot
	}
	return &alertSink{x: x, max: maxSignals, chunk: 5 * maxSignals, opts: opts}
}

// offer creates the alerts of cands in order. It reports true when
// max_signals cut a creatable candidate: the execution stops there.
func (s *alertSink) offer(ctx context.Context, cands []candidate) (bool, error) {
	s.x.res.Candidates += len(cands)
	for start := 0; start < len(cands); start += s.chunk {
		stop, err := s.offerChunk(ctx, cands[start:min(start+s.chunk, len(cands))])
		if err != nil || stop {
			return stop, err
		}
	}
	return false, nil
}

// unconfirmedClaimer is an AlertStore that remembers the alerts of its
// requests whose answers were lost (alerts.Writer).
type unconfirmedClaimer interface {
	ClaimUnconfirmed(ids []string) []string
}

type pending struct {
	c     candidate
	id    string
	terms []any
	rerun bool // already written by this slot's execution
}

func (s *alertSink) offerChunk(ctx context.Context, chunk []candidate) (bool, error) {
	all := make([]pending, 0, len(chunk))
	ids := make([]string, 0, len(chunk))
	seen := make(map[string]bool, len(chunk))
	for _, c := range chunk {
		terms := esquery.JSValues(c.terms)
		id := alerts.ID(c.hit.Index, c.hit.ID, s.opts.Space, s.x.r.SavedObjectID(), terms)
		if seen[id] {
			continue
		}
		seen[id] = true
		all = append(all, pending{c: c, id: id, terms: terms})
		ids = append(ids, id)
	}
	existing := map[string]string{}
	if s.x.e.Alerts != nil {
		var err error
		if existing, err = s.x.e.Alerts.Existing(ctx, ids); err != nil {
			return false, fmt.Errorf("check existing alerts: %w", err)
		}
	}
	creatable := all[:0]
	for _, p := range all {
		execUUID, ok := existing[p.id]
		switch {
		case !ok:
			creatable = append(creatable, p)
		case execUUID == s.opts.ExecutionUUID:
			p.rerun = true
			creatable = append(creatable, p)
		default:
			s.x.res.AlertsDuplicate++
		}
	}
	if len(creatable) == 0 {
		return false, nil
	}
	truncated := false
	if room := max(s.max-s.used, 0); len(creatable) > room {
		s.x.res.AlertsTruncated += len(creatable) - room
		creatable = creatable[:room]
		truncated = true
	}
	if err := s.write(ctx, creatable); err != nil {
		return false, err
	}
	if truncated {
		s.x.warn(MaxSignalsWarning)
		return true, nil
	}
	return false, nil
}

// write builds and writes the alerts of ps (re-run ones exist already) and
// counts them toward max_signals.
func (s *alertSink) write(ctx context.Context, ps []pending) error {
	opts := s.opts
	opts.Now = s.x.e.now(s.x.w.Slot)
	built := make([]alerts.Alert, 0, len(ps))
	var reruns []string
	var builder *alerts.Builder
	for _, p := range ps {
		if p.rerun {
			reruns = append(reruns, p.id)
			continue
		}
		if builder == nil {
			var err error
			if builder, err = alerts.NewBuilder(s.x.r); err != nil {
				return err
			}
		}
		hit := alerts.Hit{Index: p.c.hit.Index, ID: p.c.hit.ID, Source: p.c.hit.Source, Fields: p.c.hit.Fields}
		a, err := builder.Build(hit, p.terms, opts)
		if err != nil {
			return fmt.Errorf("build alert for document %s/%s: %w", hit.Index, hit.ID, err)
		}
		built = append(built, a)
	}
	// A rerun whose earlier write this store never saw answered was created
	// by this process (alerts.Writer.ClaimUnconfirmed): it counts as created.
	mine := 0
	if u, ok := s.x.e.Alerts.(unconfirmedClaimer); ok && len(reruns) > 0 {
		mine = len(u.ClaimUnconfirmed(reruns))
	}
	s.x.res.AlertsCreated += mine
	s.x.res.AlertsDuplicate += len(reruns) - mine
	s.used += len(reruns)
	if len(built) == 0 {
		return nil
	}
	if s.x.options.DryRun {
		s.x.res.Alerts = append(s.x.res.Alerts, built...)
		s.x.res.AlertsCreated += len(built)
		s.used += len(built)
		return nil
	}
	wr, err := s.x.e.Alerts.Create(ctx, built)
	if err != nil {
		return fmt.Errorf("write %d alerts: %w", len(built), err)
	}
	if wr.Created+wr.Duplicate != len(built) {
		return fmt.Errorf("write %d alerts: %d created and %d duplicate", len(built), wr.Created, wr.Duplicate)
	}
	s.x.res.AlertsCreated += wr.Created
	s.x.res.AlertsDuplicate += wr.Duplicate
	s.used += wr.Created
	return nil
}
