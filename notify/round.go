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

// round searches the alerts the action still has to deliver and sends them,
// at most MaxInFlight at a time and at most Rate per second; it returns when
// every request it started has been recorded.
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

	slots := make(chan struct{}, w.a.MaxInFlight)
	var wg sync.WaitGroup
	for _, c := range cands {
		if !w.eligible(c.manual, c.summary, c.state, now) {
			continue
		}
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
			w.deliver(ctx, c)
		}()
	}
	wg.Wait()
	if w.isCrashed() {
		return errCrashed
	}
	if err := w.stateErrors(); err != nil {
		return err
	}
	return ctx.Err()
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

// deliver claims, sends and records one alert.
func (w *worker) deliver(ctx context.Context, c candidate) {
	log := w.log.With().Str("alert_id", c.id).Logger()
	ds, v, ok := w.claim(ctx, c)
	if !ok {
		return
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
		return // shutdown: the claim expires and the alert is sent again
	}
	if err == nil && w.d.cfg.AfterSend != nil {
		if hookErr := w.d.cfg.AfterSend(w.a.Name, c.id); hookErr != nil {
			w.setCrashed()
			return
		}
	}
	if w.isCrashed() {
		return
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
	default:
		ds.Status, ds.LastError = StatusFailed, limitError(err.Error())
		w.d.cfg.Metrics.failed.WithLabelValues(w.a.Name).Inc()
		log.Error().Err(err).Int("attempts", ds.Attempts).Msg("notification failed; not retried")
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := w.record(rctx, c, v, ds); err != nil {
		w.stateFailed(err, log.With().Str("status", ds.Status).Logger(), "cannot record delivery; the alert may be sent again")
	}
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

// failed pauses the destination: exponential backoff, at least Retry-After.
// The pause is logged when it begins, not for every alert.
func (w *worker) failed(now time.Time, se *SendError, log zerolog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures++
	until := now.Add(w.d.backoff(w.failures, se.RetryAfter))
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
