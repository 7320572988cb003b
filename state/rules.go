package state

import (
	"context"
	"fmt"

	"github.com/esrule/esrule/rule"
)

// ReadRuleStates reads the state document of every rule from s (nil for a
// rule that never ran), for esrule rules list --state.
func ReadRuleStates(ctx context.Context, s *Store, rules []*rule.Rule) ([]*RuleState, error) {
	states := make([]*RuleState, len(rules))
	for i, r := range rules {
		var st RuleState
		v, err := s.Get(ctx, RuleDocID(r.Space, r.SavedObjectID()), &st)
		if err != nil {
			return nil, fmt.Errorf("read the state of rule %s: %w", r.RuleID, err)
		}
		if !v.IsZero() {
			states[i] = &st
		}
	}
	return states, nil
}
