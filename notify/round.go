package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// recordTimeout bounds the write of a delivery result, which goes on after
// shutdown began so that a message sent is a message recorded.
const recordTimeout = 10 * time.Second

// roundRetries is how many times a round sends again, with backoff, the
// alerts whose delivery failed for a retryable reason, before it leaves them
// to the next round.
const roundRetries = 3

// pauseAfterFailures is the number of consecutive retryable failures
// (without Retry-After) from which the destination is considered down and
// paused. One failure among successes is the alert's problem, not the
// destination's: the round goes on with the other alerts.
const pauseAfterFailures = 3

// round searches the alerts the action still has to deliver and sends them,
// at most MaxInFlight at a time and at most Rate per second. It goes on past
// a retryable failure and sends the failed alerts again at the end, after a
// backoff (at most roundRetries times, while the destination is not
// paused); it returns when every request it started has been recorded.
func (w *worker) round(ctx context.Context, refresh bool) error {
	if w.pause() > 0 {
		return nil
	}
	w.resetStateErrors()
	if refresh {
		if err := w.d.store.refresh(ctx); err != nil {
			w.log.Debug().Err(err).Msg("refresh before delivery")
		}
	}
	now := w.d.now()
	cands, total, err := w.d.store.pending(ctx, w.a, now.Add(-w.d.cfg.MaxAge), w.d.cfg.BatchSize)
	if err != nil {
		return err
	}
	w.d.cfg.Metrics.pending.WithLabelValues(w.a.Name).Set(float64(total))
	var eligible []candidate
	for _, c := range cands {
		if w.eligible(c.manual, c.summary, c.state, now) {
			eligible = append(eligible, c)
		}
	}
	failed := w.send(ctx, eligible)
	for pass := 1; len(failed) > 0 && pass <= roundRetries; pass++ {
		if w.pause() > 0 || w.isCrashed() || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(w.d.backoff(pass, 0))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil || w.pause() > 0 {
			break
		}
		w.log.Debug().Int("alerts", len(failed)).Int("pass", pass).Msg("sending failed notifications again")
		failed = w.send(ctx, failed)
	}
	if w.isCrashed() {
		return errCrashed
	}
	if err := w.stateErrors(); err != nil {
		return err
	}
	return ctx.Err()
}

// send delivers cands, at most MaxInFlight at a time and Rate per second,
// until the destination pauses; it returns those that failed and may be
// sent again.
func (w *worker) send(ctx context.Context, cands []candidate) []candidate {
	slots := make(chan struct{}, w.a.MaxInFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []candidate
	for _, c := range cands {
		if w.pause() > 0 || w.isCrashed() {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || w.limiter.Wait(ctx) != nil {
			break
		}
		if w.pause() > 0 || w.isCrashed() { // a request that just ended may have paused or stopped the worker
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if w.deliver(ctx, c) {
				mu.Lock()
				failed = append(failed, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// eligible says whether the action should send the alert now.
func (w *worker) eligible(manual bool, s Summary, st notifyState, now time.Time) bool {
	if manual && !st.requested {
		return false
	}
	if !w.a.appliesTo(s.RuleID, s.RuleUUID) {
		return false
	}
	ds := st.actions[w.a.Name]
	switch ds.Status {
	case StatusSent, StatusFailed:
		return false
	case StatusSending:
		return !now.Before(ds.ClaimedAt.Add(w.d.cfg.ClaimTimeout))
	}
	return true
}

// deliver claims, sends and records one alert. It reports whether the
// send failed for a retryable reason (the alert is pending again).
func (w *worker) deliver(ctx context.Context, c candidate) (retry bool) {
	log := w.log.With().Str("alert_id", c.id).Logger()
	ds, v, ok := w.claim(ctx, c)
	if !ok {
		return false
	}
	s, err := c.summary.withLink(w.link)
	if err != nil {
		log.Warn().Err(err).Msg("sending without link")
	}
	body, err := Payload(w.a, s)
	if err == nil {
		start := w.d.cfg.Clock()
		err = post(ctx, w.d.cfg.HTTPClient, w.a, c.id, body, w.d.now())
		w.d.cfg.Metrics.requestSeconds.WithLabelValues(w.a.Name).Observe(w.d.cfg.Clock().Sub(start).Seconds())
	}
	if errors.Is(err, context.Canceled) {
		return false // shutdown: the claim expires and the alert is sent again
	}
	if err == nil && w.d.cfg.AfterSend != nil {
		if hookErr := w.d.cfg.AfterSend(w.a.Name, c.id); hookErr != nil {
			w.setCrashed()
			return false
		}
	}
	if w.isCrashed() {
		return false
	}

	now := w.d.now()
	ds.Attempts++
	ds.ClaimedAt, ds.ClaimedBy = time.Time{}, ""
	var se *SendError
	switch {
	case err == nil:
		ds.Status, ds.SentAt, ds.LastError = StatusSent, now, ""
		w.d.cfg.Metrics.sent.WithLabelValues(w.a.Name).Inc()
		w.succeeded()
		log.Debug().Int("attempts", ds.Attempts).Msg("notification sent")
	case errors.As(err, &se) && se.Retryable && (w.a.MaxAttempts == 0 || ds.Attempts < w.a.MaxAttempts):
		ds.Status, ds.LastError = StatusPending, limitError(err.Error())
		w.d.cfg.Metrics.retries.WithLabelValues(w.a.Name).Inc()
		w.failed(now, se, log)
		retry = true
	default:
		ds.Status, ds.LastError = StatusFailed, limitError(err.Error())
		w.d.cfg.Metrics.failed.WithLabelValues(w.a.Name).Inc()
		log.Error().Err(err).Int("attempts", ds.Attempts).Msg("notification failed; not retried")
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.record(rctx, c, v, ds); err != nil {
		w.stateFailed(err, log.With().Str("status", ds.Status).Logger(), "cannot record delivery; the alert may be sent again")
		return false
	}
	return retry
}

// claim marks the alert as being sent by this process. It re-reads the
// alert on a version conflict (another action or deliverer wrote it) and
// gives up when it is no longer eligible.
func (w *worker) claim(ctx context.Context, c candidate) (deliveryState, version, bool) {
	v := version{c.seqNo, c.term}
	st := c.state
	for range 3 {
		now := w.d.now()
		if !w.eligible(c.manual, c.summary, st, now) {
			return deliveryState{}, version{}, false
		}
		ds := st.actions[w.a.Name]
		ds.Status, ds.ClaimedAt, ds.ClaimedBy = StatusSending, now, w.d.cfg.Owner
		nv, err := w.d.store.update(ctx, c.index, c.id, v, w.a.Name, ds)
		if err == nil {
			return ds, nv, true
		}
		if !errors.Is(err, errConflict) {
			w.stateFailed(err, w.log.With().Str("alert_id", c.id).Logger(), "cannot claim alert: nothing sent")
			return deliveryState{}, version{}, false
		}
		if st, v, err = w.d.store.get(ctx, c.index, c.id); err != nil {
			w.log.Warn().Err(err).Str("alert_id", c.id).Msg("cannot re-read alert; will retry")
			return deliveryState{}, version{}, false
		}
	}
	return deliveryState{}, version{}, false
}

// record writes the result of a send. After a conflict it re-reads the
// alert and writes again unless another deliverer has taken it over.
func (w *worker) record(ctx context.Context, c candidate, v version, ds deliveryState) error {
	for range 3 {
		_, err := w.d.store.update(ctx, c.index, c.id, v, w.a.Name, ds)
		if !errors.Is(err, errConflict) {
			return err
		}
		st, nv, err := w.d.store.get(ctx, c.index, c.id)
		if err != nil {
			return err
		}
		cur := st.actions[w.a.Name]
		if cur.Status == StatusSent || (cur.Status == StatusSending && cur.ClaimedBy != w.d.cfg.Owner) {
			return nil
		}
		v = nv
	}
	return errConflict
}

func (w *worker) succeeded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = 0
}

// failed counts a retryable failure and pauses the destination when it
// asked for it (Retry-After) or failed pauseAfterFailures times in a row:
// exponential backoff, at least Retry-After. The pause is logged when it
// begins, not for every alert.
func (w *worker) failed(now time.Time, se *SendError, log zerolog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures++
	if se.RetryAfter <= 0 && w.failures < pauseAfterFailures {
		return
	}
	until := now.Add(w.d.backoff(w.failures-pauseAfterFailures+1, se.RetryAfter))
	if until.After(w.pausedUntil) {
		if !w.pausedUntil.After(now) {
			log.Warn().Err(se).Int("consecutive_failures", w.failures).Time("retry_at", until).
				Msg("destination unavailable; pausing notifications")
		}
		w.pausedUntil = until
	}
}

func (w *worker) setCrashed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.crashed = true
}

func (w *worker) isCrashed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.crashed
}
