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

// ExplainRules explains every rule at the slot at or before at (Explain,
// typed when fc is set) and, when s is set, measures the coverage of the
// explained window on the cluster s searches (MeasureCoverage); emit
// receives each rule's explanation in turn.
func ExplainRules(ctx context.Context, fc FieldCapsFunc, s Searcher, rules []*rule.Rule, at time.Time, emit func(Explained) error) error {
	for _, r := range rules {
		e, err := Explain(ctx, fc, r, at)
		if err != nil {
			return err
		}
		x := Explained{Explanation: e}
		if s != nil {
			if x.Coverage, err = MeasureCoverage(ctx, s, r, e); err != nil {
				return err
			}
		}
		if err := emit(x); err != nil {
			return err
		}
	}
	return nil
}
