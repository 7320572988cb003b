package output

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/esrule/esrule/demo"
)

// Scenarios prints the demo scenarios in format: one JSON line per
// scenario, or a table with one row per expected alert (one per scenario
// without alerts).
func Scenarios(w io.Writer, format string, scenarios []demo.Scenario) error {
	if format == JSON {
		lines := NewLines(w)
		for _, s := range scenarios {
			if err := lines.Write(s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tACTOR\tALERT SLOT\tEVENT TIME\tDESCRIPTION")
	for _, s := range scenarios {
		if len(s.ExpectedAlerts) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.ActorID, "no alert", "-", s.Description)
		}
		for _, a := range s.ExpectedAlerts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, a.ActorID, a.Slot.Format(time.RFC3339),
				a.Time.Format(time.RFC3339Nano), s.Description)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write scenarios table: %w", err)
	}
	return nil
}
