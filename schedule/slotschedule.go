package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/esrule/esrule/rule"
)

// SlotSchedule is a cron.Schedule that fires at every slot boundary of a rule
// (multiples of Interval since the Unix epoch, UTC, docs/semantics.md D3), Delay later.
// The delay gives late documents a moment to arrive before a slot runs.
type SlotSchedule struct {
	Interval time.Duration
	Delay    time.Duration
}

var _ cron.Schedule = SlotSchedule{}

// Next returns the first slot boundary plus Delay strictly after t.
func (s SlotSchedule) Next(t time.Time) time.Time {
	next := rule.AlignSlot(t.Add(-s.Delay), s.Interval).Add(s.Interval).Add(s.Delay)
	return next.In(t.Location())
}

// ParseCron parses a standard five-field cron expression (or a descriptor such
// as @hourly or @every 5m), evaluated in UTC. An explicit schedule only decides
// when ticks happen; the slots a tick executes are still the rule's aligned slots.
// A leading CRON_TZ= or TZ= keeps its own time zone.
func ParseCron(spec string) (cron.Schedule, error) {
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=UTC " + spec
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse cron expression %q: %w", spec, err)
	}
	return s, nil
}
