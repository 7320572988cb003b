package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// DefaultGapFillChunk is how much of a rule's gap one tick fills with
// FillOldGaps: the rate at which old gaps are filled is one chunk per tick.
const DefaultGapFillChunk = 24 * time.Hour

// GapFillFunc executes every slot of r whose end falls in (from, to] through
// the backfill engine, with exactly the alerts `esrule backfill` writes, and
// calls done after each group of slots whose alerts are all written
// (engine.Engine.FillGap).
type GapFillFunc func(ctx context.Context, r *rule.Rule, from, to time.Time, done func(SlotDone) error) error

// fillGap fills the oldest chunk of the rule's recorded gap (FillOldGaps),
// after the due slots: at most GapFillChunk per tick, so that filling old
// gaps never delays current slots by more than one chunk and loads
// Elasticsearch at a bounded rate. The gap in the state shrinks after each
// group of slots (under the lease), so an interrupted fill resumes.
func (t *ruleTick) fillGap(ctx context.Context, drain <-chan struct{}, rep *TickReport) error {
	g := t.h.state().Gap
	if g == nil {
		return nil
	}
	select {
	case <-drain:
		return nil
	default:
	}
	from, to := g.From.UTC(), g.To.UTC()
	if limit := rule.AlignSlot(from.Add(t.s.cfg.gapFillChunk()), t.interval); limit.After(from) && limit.Before(to) {
		to = limit
	}
	t.log.Info().Time("gap_from", g.From).Time("gap_to", g.To).Time("fill_to", to).Msg("filling an old gap in the background")
	done := func(d SlotDone) error {
		through := d.Through.UTC()
		err := t.h.write(ctx, func(st *state.RuleState) {
			if st.Gap == nil {
				return
			}
			if !through.Before(st.Gap.To) {
				st.Gap = nil
				return
			}
			if through.After(st.Gap.From) {
				ng := *st.Gap
				ng.From = through
				st.Gap = &ng
			}
		})
		if err != nil {
			err = fmt.Errorf("record gap progress %s: %w", through.Format(time.RFC3339), err)
			t.s.cfg.Observer.Executed(t.r.RuleID, ExecBackfill, t.s.cfg.Clock().UTC(), max(d.Slots, 1), d.Result, err)
			return err
		}
		t.watchdog.Reset(t.s.cfg.timeout(t.interval) + t.h.ttl)
		t.s.cfg.Observer.Executed(t.r.RuleID, ExecBackfill, t.s.cfg.Clock().UTC(), max(d.Slots, 1), d.Result, nil)
		rep.GapFilled += d.Slots
		t.reportGap()
		return nil
	}
	err := t.s.cfg.FillGap(ctx, t.r, from, to, done)
	if err == nil {
		return nil
	}
	var se *SlotError
	if errors.As(err, &se) {
		t.s.cfg.Observer.Executed(t.r.RuleID, ExecBackfill, t.s.cfg.Clock().UTC(), 1, se.Result, se.Err)
	}
	if t.outer.Err() != nil && t.h.LostErr() == nil {
		return fmt.Errorf("rule %s: gap fill abandoned: %w", t.r.RuleID, ctx.Err())
	}
	return t.failed(ctx, StageGapFill, fmt.Errorf("fill gap (%s, %s]: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err))
}
