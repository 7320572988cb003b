package rulecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"

	"github.com/esrule/esrule/rule"
)

// CheckAll runs Check for every rule on the cluster t reaches and returns
// all problems found, in rule order; problems in detection-rules TOML files
// point at the line that sets the parameter concerned.
func CheckAll(ctx context.Context, t esapi.Transport, rules []*rule.Rule) ([]rule.Problem, error) {
	client := ES{Transport: t}
	var all []rule.Problem
	for _, r := range rules {
		ps, err := Check(ctx, client, r)
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

// Warn is the start-up check of serve and run: every problem the cluster
// shows with the rules is logged as a warning (the indices may only be
// created later, so they do not stop the process), and a failed check is
// logged too.
func Warn(ctx context.Context, t esapi.Transport, rules []*rule.Rule, log zerolog.Logger) {
	ps, err := CheckAll(ctx, t, rules)
	for _, p := range ps {
		log.Warn().Str("rule_file", p.File).Str("field", p.Field).Msg(p.String())
	}
	if err != nil {
		log.Warn().Err(err).Msg("could not check the rules against the cluster's mappings; continuing")
	}
}
