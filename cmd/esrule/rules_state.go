package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/rule"
	"github.com/esrule/esrule/state"
)

// stateListOptions are the flags of `esrule rules list` that read state.
type stateListOptions struct {
	state      bool
	stateIndex string
}

func (o *stateListOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.state, "state", false, "read each rule's state from Elasticsearch: checkpoint, status, lease and open gap")
	f.StringVar(&o.stateIndex, "state-index", mappings.StateIndex, "index of the per-rule state documents (with --state)")
}

// writeRulesStateTable prints one line per rule with its state document
// (whose text, like the rule's, is escaped for the terminal).
func writeRulesStateTable(ctx context.Context, g *globalOptions, o stateListOptions, w io.Writer, rules []*rule.Rule) error {
	c, err := g.es.client()
	if err != nil {
		return err
	}
	store := state.NewStore(c, o.stateIndex)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tINTERVAL\tLAST_COMPLETED_SLOT\tSTATUS\tLEASE\tOPEN_GAP")
	for _, r := range rules {
		var st state.RuleState
		v, err := store.Get(ctx, state.RuleDocID(r.Space, r.SavedObjectID()), &st)
		if err != nil {
			return fmt.Errorf("read the state of rule %s: %w", r.RuleID, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(r.SavedObjectID()), printable(r.Name), printable(r.Interval),
			formatSlot(v, st.LastCompletedSlot), printable(orDash(st.LastStatus)), printable(formatLease(st.Lease)), formatGap(st.Gap))
	}
	return tw.Flush()
}

func formatSlot(v state.Version, t *time.Time) string {
	switch {
	case v.IsZero():
		return "(never run)"
	case t == nil:
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
