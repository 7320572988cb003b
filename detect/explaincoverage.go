package detect

import (
	"context"
	"fmt"
	"time"

	"github.com/esrule/esrule/rule"
)

// Explained is what `rules explain` prints for one rule: the explanation
// and, with --es, the measured coverage.
type Explained struct {
	Explanation
	Coverage *MeasuredCoverage `json:"coverage,omitempty"`
}

// MeasuredCoverage is the coverage of an explained window (docs/semantics.md
// D5), with the warnings the executor would log.
type MeasuredCoverage struct {
	Coverage
	HistoryStart time.Time `json:"history_start"`
	To           time.Time `json:"to"`
	Warnings     []string  `json:"warnings"`
}

// MeasureCoverage runs the executor's coverage check for the window and
// filter of e on the cluster s searches.
func MeasureCoverage(ctx context.Context, s Searcher, r *rule.Rule, e Explanation) (*MeasuredCoverage, error) {
	w := Window{Slot: e.Window.Slot, From: e.Window.From, To: e.Window.To, HistoryStart: e.Window.HistoryStart}
	cov, err := CheckCoverage(ctx, s, r, w, e.Filter)
	if err != nil {
		return nil, fmt.Errorf("measure coverage of rule %s: %w", r.RuleID, err)
	}
	warnings := cov.Warnings()
	if warnings == nil {
		warnings = []string{}
	}
	return &MeasuredCoverage{Coverage: cov, HistoryStart: w.HistoryStart, To: w.To, Warnings: warnings}, nil
}
