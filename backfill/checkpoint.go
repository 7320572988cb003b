package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/esrule/esrule/state"
)

// Kind is the "kind" of backfill checkpoint documents.
const Kind = "backfill"

// loadCheckpoint reads the range's checkpoint and sets doneIdx (0 with Force,
// in a dry run, or without a checkpoint store).
func (b *run) loadCheckpoint(ctx context.Context) error {
	b.dryRunIDs = map[string]string{}
	from, to := b.s.From, b.s.To
	b.ckptID = state.BackfillDocID(b.r.Space, b.r.SavedObjectID(), from, to)
	b.ckpt = state.Backfill{
		Kind: Kind, RuleID: b.r.RuleID, RuleUUID: b.r.SavedObjectID(), Space: b.r.Space,
		Backfill: state.Range{ID: b.ckptID, From: from, To: to, DoneUntil: from},
	}
	if b.o.DryRun || b.d.Checkpoints == nil {
		return nil
	}
	stored := b.ckpt
	v, err := b.d.Checkpoints.Get(ctx, b.ckptID, &stored)
	if err != nil {
		return fmt.Errorf("read backfill checkpoint: %w", err)
	}
	b.ckptVersion = v
	if v.IsZero() {
		return nil
	}
	b.ckpt = stored
	if b.o.Force {
		b.ckpt.Backfill.DoneUntil = from
		return nil
	}
	b.doneIdx = b.g.index(stored.Backfill.DoneUntil)
	if b.doneIdx > 0 && b.doneIdx < b.g.len() {
		b.log.Info().Time("done_until", stored.Backfill.DoneUntil).Int("slots_done", b.doneIdx).
			Int("slots", b.g.len()).Msg("resuming backfill from its checkpoint")
	}
	return nil
}

// checkpointTimeout bounds the write of a checkpoint after the backfill's
// context ended: the slots it records are written, so an interrupt must not
// lose them.
const checkpointTimeout = 10 * time.Second

// checkpoint records that slots [0, done) are written: the checkpoint
// document (optimistic concurrency; a concurrent backfill of the same range
// makes this one fail) and the Done callback. doneIdx moves only once the
// checkpoint is stored. The write outlives an ended ctx by up to
// checkpointTimeout.
func (b *run) checkpoint(ctx context.Context, done int) error {
	if done < b.doneIdx {
		return nil
	}
	newly := done - b.doneIdx
	through := b.s.From
	if done > 0 {
		through = b.g.slot(done - 1)
	}
	if done == b.g.len() {
		through = b.s.To
	}
	if !b.o.DryRun && b.d.Checkpoints != nil {
		b.ckpt.Backfill.DoneUntil = through
		b.ckpt.UpdatedAt = b.d.now(through).Truncate(time.Millisecond)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
		v, err := b.d.Checkpoints.Put(wctx, b.ckptID, b.ckpt, b.ckptVersion)
		cancel()
		if err != nil {
			return fmt.Errorf("write backfill checkpoint: %w", err)
		}
		b.ckptVersion = v
	}
	b.doneIdx = done
	if b.o.Done != nil && newly > 0 && done > 0 {
		if err := b.o.Done(b.g.slot(done-1), newly); err != nil {
			return err
		}
	}
	return nil
}
