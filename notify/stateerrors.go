package notify

import (
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// ErrStateNotRecorded is matched (errors.Is) by the error of a round, or of
// RunOnce, in which delivery states could not be written to the alerts (a
// 403 on the update, an unreachable cluster): without them an alert is
// either never sent or sent again, so one-shot commands fail (exit 1).
// Failures of a destination are not this error: the alert stays pending.
var ErrStateNotRecorded = errors.New("notification delivery state not recorded")

// stateFailed logs err at error level and counts it; the round then
// returns ErrStateNotRecorded.
func (w *worker) stateFailed(err error, log zerolog.Logger, msg string) {
	w.d.cfg.Metrics.stateErrors.WithLabelValues(w.a.Name).Inc()
	log.Error().Err(err).Msg(msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stateErrs = append(w.stateErrs, err)
}

func (w *worker) resetStateErrors() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stateErrs = nil
}

// stateErrors is the ErrStateNotRecorded of this round (nil when every
// state was written), with the first cause.
func (w *worker) stateErrors() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.stateErrs) == 0 {
		return nil
	}
	return fmt.Errorf("action %s: %w for %d alert(s): %w", w.a.Name, ErrStateNotRecorded, len(w.stateErrs), w.stateErrs[0])
}
