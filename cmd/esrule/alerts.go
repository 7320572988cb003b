package main

import (
	"context"
	"io"
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
		Long:  longHelp("alerts"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := o.query(g.ruleIDs, time.Now())
			if err != nil {
				return err
			}
			q.Alias = g.alias(o.space)
			c, err := g.client()
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
	return output.Alerts(w, format, l, q)
}
