package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esrule/esrule/detect"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// listedRule is one line of rules list --format json.
type listedRule struct {
	ID                 string   `json:"id"`
	RuleID             string   `json:"rule_id"`
	Name               string   `json:"name"`
	Type               string   `json:"type"`
	Index              []string `json:"index"`
	NewTermsFields     []string `json:"new_terms_fields"`
	HistoryWindowStart string   `json:"history_window_start"`
	Interval           string   `json:"interval"`
	From               string   `json:"from"`
	MaxSignals         int      `json:"max_signals"`
	Severity           string   `json:"severity"`
	RiskScore          int      `json:"risk_score"`
	Space              string   `json:"space"`
	Enabled            bool     `json:"enabled"`
	// State is the rule's state document (with --state; null when the
	// rule never ran).
	State *state.RuleState `json:"state,omitempty"`
	// stateRead tells a null State (never run) from no --state.
	stateRead bool
}

// MarshalJSON writes "state": null for a rule that never ran when --state
// was given.
func (l listedRule) MarshalJSON() ([]byte, error) {
	type plain listedRule
	if l.stateRead && l.State == nil {
		return json.Marshal(struct {
			plain
			State *state.RuleState `json:"state"`
		}{plain: plain(l)})
	}
	return json.Marshal(plain(l))
}

// RuleLines prints one JSON line per rule; with states (one per rule, nil
// for a rule that never ran; a nil slice without --state), each with its
// state document.
func RuleLines(w io.Writer, rules []*rule.Rule, states []*state.RuleState) error {
	lines := NewLines(w)
	for i, r := range rules {
		l := listedRule{
			ID: r.SavedObjectID(), RuleID: r.RuleID, Name: r.Name, Type: r.Type, Index: r.Index,
			NewTermsFields: r.NewTermsFields, HistoryWindowStart: r.HistoryWindowStart, Interval: r.Interval,
			From: r.From, MaxSignals: r.MaxSignals, Severity: r.Severity, RiskScore: r.RiskScore,
			Space: r.Space, Enabled: r.Enabled, stateRead: states != nil,
		}
		if states != nil {
			l.State = states[i]
		}
		if err := lines.Write(l); err != nil {
			return err
		}
	}
	return nil
}

// RulesTable prints the rules as a table.
func RulesTable(w io.Writer, rules []*rule.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tINDICES\tFIELDS\tHISTORY\tINTERVAL")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", Printable(r.SavedObjectID()), Printable(r.Name), Printable(r.Type),
			Printable(strings.Join(r.Index, ",")), Printable(strings.Join(r.NewTermsFields, ",")),
			Printable(r.HistoryWindowStart), Printable(r.Interval))
	}
	return tw.Flush()
}

// RuleStatesTable prints one line per rule with its state document (nil:
// never run), whose text, like the rule's, is escaped for the terminal.
func RuleStatesTable(w io.Writer, rules []*rule.Rule, states []*state.RuleState) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tINTERVAL\tLAST_COMPLETED_SLOT\tSTATUS\tLEASE\tOPEN_GAP")
	for i, r := range rules {
		st := states[i]
		slot, status, lease, gap := "(never run)", "-", "-", "-"
		if st != nil {
			slot, status, lease, gap = formatSlot(st.LastCompletedSlot), orDash(st.LastStatus), formatLease(st.Lease), formatGap(st.Gap)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", Printable(r.SavedObjectID()), Printable(r.Name), Printable(r.Interval),
			slot, Printable(status), Printable(lease), gap)
	}
	return tw.Flush()
}

func formatSlot(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func formatLease(l *state.Lease) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%s until %s", l.Owner, l.ExpiresAt.UTC().Format(time.RFC3339))
}

func formatGap(g *state.Gap) string {
	if g == nil {
		return "-"
	}
	return fmt.Sprintf("(%s, %s] %s", g.From.UTC().Format(time.RFC3339), g.To.UTC().Format(time.RFC3339), g.To.Sub(g.From))
}

// Explanation prints an explanation for reading: the windows, then the
// filter and every phase's request as indented JSON, then the coverage.
func Explanation(w io.Writer, x detect.Explained) error {
	e := x.Explanation
	var b strings.Builder
	fmt.Fprintf(&b, "rule %s (%s) %q, interval %s\n", Printable(e.RuleID), Printable(e.ID), e.Name, Printable(e.Interval))
	fmt.Fprintf(&b, "  slot           %s\n", e.Window.Slot.Format(time.RFC3339))
	fmt.Fprintf(&b, "  window         %s to %s\n", e.Window.From.Format(time.RFC3339), e.Window.To.Format(time.RFC3339))
	fmt.Fprintf(&b, "  history from   %s\n", e.Window.HistoryStart.Format(time.RFC3339))
	fmt.Fprintf(&b, "  indices        %s\n", Printable(strings.Join(e.Index, ", ")))
	fmt.Fprintf(&b, "  new terms of   %s\n", Printable(strings.Join(e.Fields, ", ")))
	fmt.Fprintf(&b, "  query (KQL)    %s\n", Printable(e.Query))
	filter, err := json.MarshalIndent(e.Filter, "  ", "  ")
	if err != nil {
		return fmt.Errorf("encode the query filter: %w", err)
	}
	fmt.Fprintf(&b, "  filter (typed: %t)\n  %s\n", e.Typed, filter)
	for _, p := range e.Phases {
		var body bytes.Buffer
		if err := json.Indent(&body, p.Body, "  ", "  "); err != nil {
			body.Reset()
			body.Write(p.Body)
		}
		fmt.Fprintf(&b, "  phase %s on %s\n  %s\n", p.Name, Printable(strings.Join(p.Indices, ",")), body.String())
	}
	for _, k := range slices.Sorted(maps.Keys(e.Notes)) {
		fmt.Fprintf(&b, "  note %s: %s\n", Printable(k), Printable(e.Notes[k]))
	}
	if c := x.Coverage; c != nil {
		fmt.Fprintf(&b, "  coverage       %d matching documents from %s to %s, %d with every field\n",
			c.Total, c.HistoryStart.Format(time.RFC3339), c.To.Format(time.RFC3339), c.AllFields)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "    %s in %d\n", Printable(f.Field), f.Docs)
		}
		for _, w := range c.Warnings {
			fmt.Fprintf(&b, "  warning        %s\n", Printable(w))
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write explanation: %w", err)
	}
	return nil
}

// Problems prints rule problems, one per line (file:line: field: reason).
func Problems(w io.Writer, ps []rule.Problem) {
	for _, p := range ps {
		fmt.Fprintln(w, Printable(p.String()))
	}
}
