package schedule

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/esrule/esrule/rule"
)

// ParseRuleSchedules parses RULE_ID=CRON values (serve --schedule) into
// Config.Schedules: every id must name one of rules, by rule_id or id, and
// the cron expression is read in UTC (ParseCron). Errors start with the
// value, quoted.
func ParseRuleSchedules(values []string, rules []*rule.Rule) (map[string]cron.Schedule, error) {
	out := map[string]cron.Schedule{}
	for _, v := range values {
		id, spec, ok := strings.Cut(v, "=")
		if !ok || id == "" || strings.TrimSpace(spec) == "" {
			return nil, fmt.Errorf("%q: want RULE_ID=CRON, e.g. %s='*/5 * * * *'", v, rule.Builtin().RuleID)
		}
		known := false
		for _, r := range rules {
			known = known || r.RuleID == id || r.SavedObjectID() == id
		}
		if !known {
			return nil, fmt.Errorf("%q: no loaded rule has id or rule_id %s", v, id)
		}
		sched, err := ParseCron(strings.TrimSpace(spec))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", v, err)
		}
		out[id] = sched
	}
	return out, nil
}
