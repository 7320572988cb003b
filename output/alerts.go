package output

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esrule/esrule/alerts"
)

// AlertDocs prints would-be alerts of a dry run as NDJSON, one
// search-hit-like object ({"_index","_id","_source"}) each.
func (l *Lines) AlertDocs(index string, as []alerts.Alert) error {
	for _, a := range as {
		line := struct {
			Index  string         `json:"_index"`
			ID     string         `json:"_id"`
			Source map[string]any `json:"_source"`
		}{index, a.ID, a.Doc}
		if err := l.enc.Encode(line); err != nil {
			return fmt.Errorf("write alert: %w", err)
		}
	}
	return nil
}

// Alerts prints the alerts of l, read with q, in format: a table for
// people, or one JSON object per alert.
func Alerts(w io.Writer, format string, l alerts.Listing, q alerts.ListQuery) error {
	if format == JSON {
		lines := NewLines(w)
		for _, r := range l.Alerts {
			if err := lines.Write(r); err != nil {
				return err
			}
		}
		return nil
	}
	return alertTable(w, l, q)
}

// alertTable prints the alerts as aligned columns, then how many were shown.
func alertTable(w io.Writer, l alerts.Listing, q alerts.ListQuery) error {
	rows, total := l.Alerts, l.Total
	where := Printable(q.Alias)
	if !q.Since.IsZero() {
		where += " since " + q.Since.UTC().Format(time.RFC3339)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "no alerts in %s\n", where)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tRULE\tACTOR\tSOURCE IP\tAS\tCOUNTRY\tALERT ID\tREASON")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			shortTime(r.Time), cell(r.Rule, 28), cell(r.Actor, 32), cell(r.SourceIP, 39), cell(asLabel(r.ASNumber, r.ASOrg), 36),
			cell(r.Country, 20), shortID(r.ID), cell(r.Reason, 60))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write alerts table: %w", err)
	}
	shown := fmt.Sprintf("%d alerts", len(rows))
	if total > len(rows) {
		shown = fmt.Sprintf("the latest %d of %d alerts (--limit)", len(rows), total)
	}
	_, err := fmt.Fprintf(w, "%s in %s\n", shown, where)
	return err
}

// asLabel is "AS<number> <organisation>", or whichever of them is known.
func asLabel(number, org string) string {
	if number == "" {
		return org
	}
	return strings.TrimSpace("AS" + number + " " + org)
}

// shortID is the first 12 characters of an alert _id, enough to tell alerts
// apart (use --format json for the full one).
func shortID(id string) string {
	if len(id) > 12 && !needsEscape(id[:12]) {
		return id[:12]
	}
	return cell(id, 12)
}

// shortTime prints an ISO time to the second, in UTC.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return cell(s, 24)
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
