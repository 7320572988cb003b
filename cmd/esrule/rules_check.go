package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/detect"
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
		withTOMLLines(ps)
		all = append(all, ps...)
	}
	return all, nil
}

// withTOMLLines points problems in detection-rules files at the line that
// sets the parameter concerned.
func withTOMLLines(ps []rule.Problem) {
	srcs := map[string][]byte{}
	for i, p := range ps {
		if p.Line != 0 || !strings.EqualFold(filepath.Ext(p.File), ".toml") {
			continue
		}
		src, ok := srcs[p.File]
		if !ok {
			src, _ = os.ReadFile(p.File) // loaded a moment ago; no line if it is gone
			srcs[p.File] = src
		}
		ps[i].Line = rule.TOMLFieldLine(src, p.Field)
	}
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

// explained is what `rules explain` prints for one rule: the explanation
// and, with --es, the measured coverage.
type explained struct {
	detect.Explanation
	Coverage *explainCoverage `json:"coverage,omitempty"`
}

// explainCoverage is the measured coverage `rules explain --es` prints.
type explainCoverage struct {
	detect.Coverage
	HistoryStart time.Time `json:"history_start"`
	To           time.Time `json:"to"`
	Warnings     []string  `json:"warnings"`
}

// measureCoverage runs the executor's coverage check for the explained
// window on the cluster.
func measureCoverage(ctx context.Context, g *globalOptions, r *rule.Rule, e detect.Explanation) (*explainCoverage, error) {
	c, err := g.es.client()
	if err != nil {
		return nil, err
	}
	w := detect.Window{Slot: e.Window.Slot, From: e.Window.From, To: e.Window.To, HistoryStart: e.Window.HistoryStart}
	cov, err := detect.CheckCoverage(ctx, c, r, w, e.Filter)
	if err != nil {
		return nil, fmt.Errorf("measure coverage of rule %s: %w", r.RuleID, err)
	}
	warnings := cov.Warnings()
	if warnings == nil {
		warnings = []string{}
	}
	return &explainCoverage{Coverage: cov, HistoryStart: w.HistoryStart, To: w.To, Warnings: warnings}, nil
}
