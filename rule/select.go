package rule

import "slices"

// LoadOrBuiltin loads the rule files and directories at paths (LoadFiles),
// or, when there are none, the built-in rule, validated.
func LoadOrBuiltin(paths []string) (LoadResult, error) {
	if len(paths) == 0 {
		r := Builtin()
		if ps := r.Validate(); len(ps) > 0 {
			return LoadResult{}, &ValidationError{Problems: ps}
		}
		return LoadResult{Rules: []*Rule{r}}, nil
	}
	return LoadFiles(paths)
}

// Select keeps the rules whose saved-object id or rule_id is one of ids, in
// load order (all rules when ids is empty); unknown lists the ids that
// match no rule.
func Select(rules []*Rule, ids []string) (selected []*Rule, unknown []string) {
	if len(ids) == 0 {
		return rules, nil
	}
	for _, id := range ids {
		found := false
		for _, r := range rules {
			if r.SavedObjectID() == id || r.RuleID == id {
				found = true
				if !slices.Contains(selected, r) {
					selected = append(selected, r)
				}
			}
		}
		if !found {
			unknown = append(unknown, id)
		}
	}
	return selected, unknown
}
