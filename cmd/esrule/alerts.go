package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/alerts"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
)

// alertsOptions are the flags of `esrule alerts`.
type alertsOptions struct {
	space  string
	since  string
	limit  int
	format string
}

func newAlertsCommand(g *globalOptions) *cobra.Command {
	var o alertsOptions
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Print the latest alerts of the alerts index as a table (or JSON lines)",
		Long: `alerts reads the alerts behind the write alias esrule-alerts-<space> and prints the
latest --limit of them, oldest first by kibana.alert.original_time (the source event's
time): rule, actor, source IP, autonomous system, country, alert _id and reason.
Fields a rule's source documents lack (non-Okta rules) stay empty.

--since keeps alerts whose original time is at or after T (RFC 3339, a date or date
math such as now-24h). --rule keeps alerts of the given rule ids or rule_ids. --format
json prints one JSON object per alert with the full values: rule_id, severity, risk
score, the alert's @timestamp, workflow status, execution type, the source document's
index and _id, and the new terms (docs/output.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := o.query(g.ruleIDs, time.Now())
			if err != nil {
				return err
			}
			q.Alias = g.alias(o.space)
			c, err := g.es.client()
			if err != nil {
				return err
			}
			return printAlerts(cmd.Context(), c, q, o.format, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.space, "space", "default", "Kibana space whose alerts are read (alias esrule-alerts-<space>, or .alerts-security.alerts-<space> with --alerts-target kibana)")
	f.StringVar(&o.since, "since", "", "only alerts whose original time is at or after T (RFC 3339 or date math, e.g. now-24h)")
	f.IntVar(&o.limit, "limit", 100, "print at most the latest N alerts")
	output.AddFormatFlag(f, &o.format, output.Table)
	return cmd
}

func (o alertsOptions) query(ruleIDs []string, now time.Time) (alerts.ListQuery, error) {
	if err := output.CheckFormat(o.format); err != nil {
		return alerts.ListQuery{}, asUsage(err)
	}
	if o.limit < 1 || o.limit > alerts.MaxListLimit {
		return alerts.ListQuery{}, usagef("--limit %d: want 1 to %d", o.limit, alerts.MaxListLimit)
	}
	if err := mappings.ValidateSpace(o.space); err != nil {
		return alerts.ListQuery{}, asUsage(err)
	}
	q := alerts.ListQuery{Alias: mappings.AlertsAlias(o.space), Limit: o.limit, RuleIDs: ruleIDs}
	if o.since != "" {
		since, err := timeFlag("since", o.since, now)
		if err != nil {
			return alerts.ListQuery{}, err
		}
		q.Since = since
	}
	return q, nil
}

// printAlerts reads the alerts q selects and prints them in format (table or json).
func printAlerts(ctx context.Context, t esapi.Transport, q alerts.ListQuery, format string, w io.Writer) error {
	l, err := alerts.List(ctx, t, q)
	if err != nil {
		return err
	}
	if format == output.JSON {
		return writeAlertRowsJSON(w, l.Alerts)
	}
	return writeAlertTable(w, l, q)
}

func writeAlertRowsJSON(w io.Writer, rows []alerts.Listed) error {
	lines := output.NewLines(w)
	for _, r := range rows {
		if err := lines.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// writeAlertTable prints the alerts as aligned columns, then how many were shown.
func writeAlertTable(w io.Writer, l alerts.Listing, q alerts.ListQuery) error {
	rows, total := l.Alerts, l.Total
	where := printable(q.Alias)
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

// cell makes s fit a table cell: one line, at most n characters, "-" when empty.
func cell(s string, n int) string {
	s = printable(strings.Join(strings.Fields(s), " "))
	if s == "" {
		return "-"
	}
	return ellipsize(s, n)
}

// ellipsize shortens s to at most n characters, ending with "…" when cut.
func ellipsize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
