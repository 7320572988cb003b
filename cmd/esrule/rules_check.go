package main

import (
	"context"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/rulecheck"
)

// checkRules runs rulecheck.Check for every rule and returns all problems
// found on the cluster, in rule order.
func checkRules(ctx context.Context, c esapi.Transport, rules []*rule.Rule) ([]rule.Problem, error) {
	client := rulecheck.ES{Transport: c}
	var all []rule.Problem
	for _, r := range rules {
		ps, err := rulecheck.Check(ctx, client, r)
		if err != nil {
			return all, err
		}
		all = append(all, ps...)
	}
	return all, nil
}

// warnRuleProblems is the start-up check of serve and run: every problem
// the cluster shows with the rules is logged as a warning (the indices may
// only be created later, so they do not stop the process), and a failed
// check is logged too.
func warnRuleProblems(ctx context.Context, c esapi.Transport, rules []*rule.Rule, log zerolog.Logger) {
	ps, err := checkRules(ctx, c, rules)
	for _, p := range ps {
		log.Warn().Str("rule_file", p.File).Str("field", p.Field).Msg(p.String())
	}
	if err != nil {
		log.Warn().Err(err).Msg("could not check the rules against the cluster's mappings; continuing")
	}
}
