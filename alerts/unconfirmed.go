package alerts

import "sync"

// maxUnconfirmed bounds the ids a writer remembers as unconfirmed; beyond it
// the oldest are forgotten (their alerts may then count as duplicates).
const maxUnconfirmed = 100_000

// A bulk request whose answers were lost on every attempt (the client gave
// up on timeouts or 5xx) may still have been applied: its alerts are
// reported failed, and the execution fails. When the same writer's next
// execution of the slot (the scheduler's retry) finds them in its
// pre-check, ClaimUnconfirmed tells the executor that this writer created
// them, so that the alerts counted as created stay equal to the alerts
// written. A writer remembers only its own requests: what another process
// wrote is that process's count.
type unconfirmed struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
}

func (u *unconfirmed) add(ids []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[string]struct{}{}
	}
	for _, id := range ids {
		if _, ok := u.ids[id]; ok {
			continue
		}
		u.ids[id] = struct{}{}
		u.order = append(u.order, id)
	}
	for len(u.order) > maxUnconfirmed {
		delete(u.ids, u.order[0])
		u.order = u.order[1:]
	}
}

// claim returns those of ids that are unconfirmed and forgets them.
func (u *unconfirmed) claim(ids []string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.ids) == 0 {
		return nil
	}
	var out []string
	for _, id := range ids {
		if _, ok := u.ids[id]; ok {
			delete(u.ids, id)
			out = append(out, id)
		}
	}
	if len(out) > 0 {
		kept := u.order[:0]
		for _, id := range u.order {
			if _, ok := u.ids[id]; ok {
				kept = append(kept, id)
			}
		}
		u.order = kept
	}
	return out
}

// ClaimUnconfirmed returns those of ids that this writer sent in a bulk
// request whose answer never came (see above), and forgets them: the caller
// found them written with its own execution uuid, so this writer created
// them.
func (w *Writer) ClaimUnconfirmed(ids []string) []string { return w.unconfirmed.claim(ids) }
