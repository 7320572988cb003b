package backfill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/esquery"
)

// pipeline overlaps fetching and building the next batches of alert
// documents with writing the previous batch (one writer goroutine): at most
// buildWorkers batches exist at once, built or being built, the one being
// written included, which bounds the alert documents in memory. The writer handles jobs strictly in order: wait
// for a batch's build, write it, run an exact slot, advance the checkpoint;
// so slots are written in order and the checkpoint never passes an unwritten
// slot.
type pipeline struct {
	b      *run
	f      *fetcher
	ctx    context.Context // cancelled when the writer fails
	cancel context.CancelFunc
	jobs   chan writeJob
	done   chan struct{}
	err    error // the writer's first error; read after done is closed
	// dirty: this run wrote alerts since the last refresh (writer only).
	// What an earlier, interrupted run wrote is refreshed by the alert
	// store's first pre-check (alerts.Writer).
	dirty bool

	builder *alerts.Builder
	builds  chan struct{} // one token per batch from its build to its write
}

// buildWorkers bounds the batches in memory at once: one written while the
// next is fetched and built.
const buildWorkers = 2

// batchResult is the outcome of one batch's fetch and build.
type batchResult struct {
	alerts []alerts.Alert
	err    error
}

// writeJob is one step of the writer.
type writeJob struct {
	built chan batchResult // the batch's alerts, when it has first occurrences
	recs  int              // first occurrences behind built
	// exact, when >= 0, is a slot to execute with the executor after built.
	exact int
	reply chan detect.Result
	// done: after the job, slots [0, done) are written.
	done int
}

// minConcurrentWrite is the smallest half of a batch written concurrently.
const minConcurrentWrite = 100

var errWriterStopped = errors.New("alert writer stopped")

func newPipeline(ctx context.Context, b *run, f *fetcher) (*pipeline, error) {
	builder, err := alerts.NewBuilder(b.r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &pipeline{
		b: b, f: f, ctx: ctx, cancel: cancel, builder: builder,
		jobs: make(chan writeJob, buildWorkers), done: make(chan struct{}), builds: make(chan struct{}, buildWorkers),
	}
	go p.loop()
	return p, nil
}

func (p *pipeline) loop() {
	defer close(p.done)
	for job := range p.jobs {
		if p.err == nil {
			if err := p.handle(job); err != nil {
				p.err = err
				p.cancel()
			}
		} else if job.built != nil {
			<-job.built // the build ends soon: its context is cancelled
		}
		if job.built != nil {
			<-p.builds // handle has taken the batch's result
		}
		if job.reply != nil {
			close(job.reply)
		}
	}
}

// close ends the pipeline: it waits for the writer, makes the alerts visible
// and records the end. The writer's error wins over the caller's (which is
// then usually a cancellation).
func (p *pipeline) close(err error) error {
	close(p.jobs)
	<-p.done // the writer took every queued batch's result
	defer p.cancel()
	if p.err != nil {
		return p.err
	}
	if err != nil {
		return err
	}
	return p.refresh(p.ctx)
}

// flush starts fetching the documents of recs and building their alerts (it
// waits while buildWorkers batches are in flight) and queues the writing;
// after they are written, slots [0, done) are done.
func (p *pipeline) flush(recs []record, done int) error {
	job := writeJob{recs: len(recs), exact: -1, done: done}
	if len(recs) > 0 {
		select {
		case p.builds <- struct{}{}:
		case <-p.ctx.Done():
			return fmt.Errorf("%w: %w", errWriterStopped, p.ctx.Err())
		}
		job.built = make(chan batchResult, 1)
		go func() {
			as, err := p.build(recs)
			job.built <- batchResult{alerts: as, err: err}
		}()
	}
	if err := p.send(job); err != nil {
		if job.built != nil { // never queued: wait for its build here
			<-job.built
			<-p.builds
		}
		return err
	}
	return nil
}

// exact queues slot j for exact execution and waits for its result.
func (p *pipeline) exact(j int) (detect.Result, error) {
	reply := make(chan detect.Result, 1)
	if err := p.send(writeJob{exact: j, reply: reply, done: j + 1}); err != nil {
		return detect.Result{}, err
	}
	res, ok := <-reply
	if !ok {
		return res, fmt.Errorf("%w: %w", errWriterStopped, context.Cause(p.ctx))
	}
	return res, nil
}

func (p *pipeline) send(job writeJob) error {
	select {
	case p.jobs <- job:
		return nil
	case <-p.ctx.Done():
		// Either the writer failed (close returns its error) or the caller's
		// context ended: keep the cancellation visible to errors.Is.
		return fmt.Errorf("%w: %w", errWriterStopped, p.ctx.Err())
	}
}

func (p *pipeline) handle(job writeJob) error {
	b := p.b
	var batch batchResult
	if job.built != nil {
		batch = <-job.built
		if batch.err != nil {
			return batch.err
		}
	}
	if len(batch.alerts) > 0 {
		t0 := b.d.now(time.Time{})
		err := p.write(batch.alerts)
		b.mu.Lock()
		b.s.WriteMS += b.d.now(time.Time{}).Sub(t0).Milliseconds()
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
	b.mu.Lock()
	b.s.FirstOccurrences += job.recs
	b.mu.Unlock()
	if job.exact >= 0 {
		if err := b.checkpoint(p.ctx, job.exact); err != nil {
			return err
		}
		if err := p.refresh(p.ctx); err != nil {
			return err
		}
		res, err := b.exact(p.ctx, job.exact)
		if err != nil {
			return err
		}
		job.reply <- res
	}
	if err := b.checkpoint(p.ctx, job.done); err != nil {
		return err
	}
	b.progress("write", 0)
	return nil
}

func (p *pipeline) refresh(ctx context.Context) error {
	if !p.dirty || p.b.d.Refresh == nil || p.b.o.DryRun {
		return nil
	}
	if err := p.b.d.Refresh(ctx); err != nil {
		return fmt.Errorf("refresh alerts: %w", err)
	}
	p.dirty = false
	return nil
}

// build fetches the documents of recs (in slot order) and builds their alerts,
// each with its slot's execution uuid.
func (p *pipeline) build(recs []record) ([]alerts.Alert, error) {
	b := p.b
	t0 := b.d.now(time.Time{})
	hits, err := p.f.fetch(p.ctx, recs)
	b.mu.Lock()
	b.s.FetchMS += b.d.now(time.Time{}).Sub(t0).Milliseconds()
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	space, soID := b.r.Space, b.r.SavedObjectID()
	now := b.d.now(b.g.slot(int(recs[len(recs)-1].slot)))
	built := make([]alerts.Alert, 0, len(recs))
	seen := make(map[string]bool, len(recs))
	for k, rc := range recs {
		h := hits[k]
		slot := b.g.slot(int(rc.slot))
		if h == nil {
			b.warn(fmt.Sprintf("no document found for first occurrence of %v in slot %s; skipped", rc.key, slot.Format(time.RFC3339)))
			continue
		}
		opts := alerts.BuildOptions{
			Space: space, ExecutionUUID: alerts.ExecutionUUID(space, soID, slot),
			ExecutionType: b.executionType(), Now: now, KibanaVersion: b.d.Executor.KibanaVersion,
		}
		if opts.ExecutionType == alerts.ExecutionManual {
			opts.IntendedTimestamp = slot
		}
		a, err := p.builder.Build(alerts.Hit{Index: h.Index, ID: h.ID, Source: h.Source, Fields: h.Fields}, esquery.JSValues(rc.key), opts)
		if err != nil {
			return nil, fmt.Errorf("build alert for document %s/%s: %w", h.Index, h.ID, err)
		}
		if !seen[a.ID] {
			seen[a.ID] = true
			built = append(built, a)
		}
	}
	return built, nil
}

// write creates the alerts (a dry run passes the new ones to OnAlerts).
func (p *pipeline) write(built []alerts.Alert) error {
	b := p.b
	if b.o.DryRun {
		return p.dryRun(built)
	}
	// Two bulk requests at a time: the order of alerts within a batch does
	// not matter (the checkpoint advances after both).
	parts := [][]alerts.Alert{built}
	if len(built) >= 2*minConcurrentWrite {
		parts = [][]alerts.Alert{built[:len(built)/2], built[len(built)/2:]}
	}
	results := make([]alerts.WriteResult, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = b.d.Alerts.Create(p.ctx, part)
		}()
	}
	wg.Wait()
	p.dirty = true
	for i, res := range results {
		if errs[i] != nil {
			return fmt.Errorf("write %d alerts: %w", len(parts[i]), errs[i])
		}
		b.mu.Lock()
		b.s.AlertsCreated += res.Created
		b.s.AlertsDuplicate += res.Duplicate
		b.mu.Unlock()
	}
	return nil
}

// dryRun passes the alerts that do not exist yet to OnAlerts.
func (p *pipeline) dryRun(built []alerts.Alert) error {
	b := p.b
	ids := make([]string, len(built))
	for k, a := range built {
		ids[k] = a.ID
	}
	store := &overlay{base: b.d.Executor.Alerts, written: b.dryRunIDs}
	existing, err := store.Existing(p.ctx, ids)
	if err != nil {
		return fmt.Errorf("check existing alerts: %w", err)
	}
	out := make([]alerts.Alert, 0, len(built))
	for _, a := range built {
		if _, ok := existing[a.ID]; !ok {
			b.dryRunIDs[a.ID] = ""
			out = append(out, a)
		}
	}
	b.mu.Lock()
	b.s.AlertsCreated += len(out)
	b.s.AlertsDuplicate += len(built) - len(out)
	b.mu.Unlock()
	if b.o.OnAlerts != nil && len(out) > 0 {
		return b.o.OnAlerts(out)
	}
	return nil
}
