package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// Membership registers replicas and lists the live ones; *state.Store is
// one. With a Store that implements it, replicas that keep their leases
// (serve) share the rules fairly: each takes the rules whose preferred
// replica it is among the live ones (rendezvous hashing of the rule's state
// id), so n replicas each run about 1/n of the rules and a replica that
// joins or leaves moves only its own share. Leases still decide who
// executes: the assignment only says who tries.
type Membership interface {
	Heartbeat(ctx context.Context, owner string, now time.Time, ttl time.Duration) error
	LiveReplicas(ctx context.Context, now time.Time) ([]string, error)
	Leave(ctx context.Context, owner string, now time.Time) error
}

// share is this replica's view of the live replicas.
type share struct {
	mu   sync.Mutex
	live []string
	read time.Time // when live was read; zero: never
}

// membership returns the Store's Membership when rules are shared: in serve
// (KeepLease), where replicas hold leases across ticks.
func (s *Scheduler) membership() (Membership, bool) {
	if !s.cfg.KeepLease {
		return nil, false
	}
	m, ok := s.cfg.Store.(Membership)
	return m, ok
}

// shareRefresh is how old the view of live replicas may get: half the
// shortest rule interval, so that every tick sees a recent one.
func (s *Scheduler) shareRefresh() time.Duration {
	d := time.Duration(0)
	for _, r := range s.cfg.Rules {
		if iv := r.Timing.Interval; d == 0 || iv < d {
			d = iv
		}
	}
	return d / 2
}

// replicaTTL is how long a registration lasts without a heartbeat: the
// longest lease, so that a replica gone silent loses its share no later
// than its leases expire.
func (s *Scheduler) replicaTTL() time.Duration {
	d := time.Duration(0)
	for _, r := range s.cfg.Rules {
		d = max(d, s.cfg.leaseTTL(r.Timing.Interval))
	}
	return d
}

// liveReplicas returns the live replicas (this one included), registering
// this replica and reading the others when the view is older than
// shareRefresh.
func (s *Scheduler) liveReplicas(ctx context.Context, m Membership) ([]string, error) {
	s.share.mu.Lock()
	defer s.share.mu.Unlock()
	now := s.cfg.Clock().UTC()
	if age := now.Sub(s.share.read); !s.share.read.IsZero() && age >= 0 && age < s.shareRefresh() {
		return s.share.live, nil
	}
	if err := m.Heartbeat(ctx, s.cfg.Owner, now, s.replicaTTL()); err != nil {
		return nil, err
	}
	live, err := m.LiveReplicas(ctx, now)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(live, s.cfg.Owner) {
		live = append(live, s.cfg.Owner)
	}
	s.share.live, s.share.read = live, now
	return live, nil
}

// preferred is the replica of live that rendezvous hashing gives key to.
func preferred(live []string, key string) string {
	best, bestScore := "", uint64(0)
	for _, owner := range live {
		h := sha256.Sum256([]byte(owner + "\x00" + key))
		score := binary.BigEndian.Uint64(h[:8])
		if best == "" || score > bestScore || (score == bestScore && owner < best) {
			best, bestScore = owner, score
		}
	}
	return best
}

// takeDecision says whether this replica ticks a rule and whether it hands
// the rule's lease over afterwards.
type takeDecision struct {
	take, handOver bool
}

// takes decides whether this replica ticks r now. Without shared rules it
// always does (the lease decides). With them, it does when it is r's
// preferred replica; else only when it holds r's lease (it ticks once more
// and then releases it, so the preferred replica takes over without a
// missed slot), when r has no state yet (first start: the lease race
// decides), or when r is overdue (its preferred replica missed a tick).
// Errors reading the replicas or the state fall back to the lease race.
func (s *Scheduler) takes(ctx context.Context, r *rule.Rule) takeDecision {
	m, ok := s.membership()
	if !ok {
		return takeDecision{take: true}
	}
	log := s.cfg.Logger.With().Str("rule_id", r.RuleID).Logger()
	live, err := s.liveReplicas(ctx, m)
	if err != nil {
		log.Warn().Err(err).Msg("could not read the live replicas; the rule's lease decides")
		return takeDecision{take: true}
	}
	id := state.RuleDocID(r.Space, r.SavedObjectID())
	if preferred(live, id) == s.cfg.Owner {
		return takeDecision{take: true}
	}
	var st state.RuleState
	v, err := s.cfg.Store.Get(ctx, id, &st)
	if err != nil {
		log.Warn().Err(err).Msg("could not read the rule state; the rule's lease decides")
		return takeDecision{take: true}
	}
	now := s.cfg.Clock().UTC()
	switch {
	case v.IsZero():
		return takeDecision{take: true, handOver: true}
	case st.Lease != nil && st.Lease.Owner == s.cfg.Owner && now.Before(st.Lease.ExpiresAt):
		return takeDecision{take: true, handOver: true}
	}
	iv := r.Timing.Interval
	latest := rule.AlignSlot(now.Add(-s.cfg.Delay), iv)
	if st.LastCompletedSlot != nil && st.LastCompletedSlot.Before(latest.Add(-iv)) {
		return takeDecision{take: true, handOver: true}
	}
	return takeDecision{}
}

// leave unregisters this replica at shutdown.
func (s *Scheduler) leave(ctx context.Context) {
	m, ok := s.membership()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	if err := m.Leave(ctx, s.cfg.Owner, s.cfg.Clock()); err != nil {
		s.cfg.Logger.Warn().Err(err).Msg("could not unregister the replica; its registration expires by itself")
	}
}
