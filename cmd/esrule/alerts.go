package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/spf13/cobra"

	"github.com/esrule/esrule/mappings"
)

func init() { registerCommand(newAlertsCommand) }

// alertsOptions are the flags of `esrule alerts`.
type alertsOptions struct {
	space  string
	since  string
	limit  int
	format string
}

const maxAlertsLimit = 10000 // index.max_result_window

func newAlertsCommand(g *globalOptions) *cobra.Command {
	var o alertsOptions
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Print the latest alerts of the alerts index as a table (or JSON lines)",
		Long: `alerts reads the alerts behind the write alias esrule-alerts-<space> and prints the
latest --limit of them, oldest first by kibana.alert.original_time (the source event's
time): rule, actor, source IP, autonomous system, country, alert _id and reason.
Fields a rule's source documents lack (non-Okta rules) stay empty.

--since keeps alerts whose original time is at or after T (RFC 3339 or date math such
as now-24h). --rule keeps alerts of the given rule ids or rule_ids. --format json prints
one JSON object per alert with the full values, the source document's index and _id,
and the new terms.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := o.query(g.ruleIDs, time.Now())
			if err != nil {
				return err
			}
			c, err := g.es.client()
			if err != nil {
				return err
			}
			return listAlerts(cmd.Context(), c, q, o.format, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.space, "space", "default", "Kibana space whose alerts are read (alias esrule-alerts-<space>)")
	f.StringVar(&o.since, "since", "", "only alerts whose original time is at or after T (RFC 3339 or date math, e.g. now-24h)")
	f.IntVar(&o.limit, "limit", 100, "print at most the latest N alerts")
	f.StringVar(&o.format, "format", "table", "output format: table or json (one object per line)")
	return cmd
}

// alertsQuery selects the alerts to print.
type alertsQuery struct {
	alias   string
	since   time.Time // zero: no lower bound
	limit   int
	ruleIDs []string
}

func (o alertsOptions) query(ruleIDs []string, now time.Time) (alertsQuery, error) {
	if o.format != "table" && o.format != "json" {
		return alertsQuery{}, usagef("--format %q: want table or json", o.format)
	}
	if o.limit < 1 || o.limit > maxAlertsLimit {
		return alertsQuery{}, usagef("--limit %d: want 1 to %d", o.limit, maxAlertsLimit)
	}
	if err := mappings.ValidateSpace(o.space); err != nil {
		return alertsQuery{}, asUsage(err)
	}
	q := alertsQuery{alias: mappings.AlertsAlias(o.space), limit: o.limit, ruleIDs: ruleIDs}
	if o.since != "" {
		since, err := parseTime("since", o.since, now)
		if err != nil {
			return alertsQuery{}, err
		}
		q.since = since
	}
	return q, nil
}

// body is the search request: the latest alerts first, so that --limit keeps
// the newest; listAlerts prints them oldest first.
func (q alertsQuery) body() map[string]any {
	var filter []any
	if !q.since.IsZero() {
		filter = append(filter, map[string]any{"range": map[string]any{
			"kibana.alert.original_time": map[string]any{"gte": q.since.UTC().Format(time.RFC3339Nano)},
		}})
	}
	if len(q.ruleIDs) > 0 {
		filter = append(filter, map[string]any{"bool": map[string]any{
			"should": []any{
				map[string]any{"terms": map[string]any{"kibana.alert.rule.rule_id": q.ruleIDs}},
				map[string]any{"terms": map[string]any{"kibana.alert.rule.uuid": q.ruleIDs}},
			},
			"minimum_should_match": 1,
		}})
	}
	query := map[string]any{"match_all": map[string]any{}}
	if len(filter) > 0 {
		query = map[string]any{"bool": map[string]any{"filter": filter}}
	}
	return map[string]any{
		"size":             q.limit,
		"track_total_hits": true,
		"query":            query,
		"sort": []any{
			map[string]any{"kibana.alert.original_time": map[string]any{"order": "desc", "unmapped_type": "date"}},
			map[string]any{"kibana.alert.uuid": map[string]any{"order": "desc", "unmapped_type": "keyword"}},
		},
	}
}

// alertHit is one hit of the alerts search.
type alertHit struct {
	ID     string         `json:"_id"`
	Source map[string]any `json:"_source"`
}

type alertsResponse struct {
	Shards struct {
		Failed   int `json:"failed"`
		Failures []struct {
			Index  string `json:"index"`
			Reason struct {
				Reason string `json:"reason"`
			} `json:"reason"`
		} `json:"failures"`
	} `json:"_shards"`
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []alertHit `json:"hits"`
	} `json:"hits"`
}

// listAlerts searches the alerts and prints them in format (table or json).
func listAlerts(ctx context.Context, c *elasticsearch.Client, q alertsQuery, format string, w io.Writer) error {
	res, err := searchAlerts(ctx, c, q)
	if err != nil {
		return fmt.Errorf("read alerts from %s: %w", q.alias, err)
	}
	rows := make([]alertRow, 0, len(res.Hits.Hits))
	for _, h := range slices.Backward(res.Hits.Hits) {
		rows = append(rows, rowOf(h))
	}
	if format == "json" {
		return writeAlertRowsJSON(w, rows)
	}
	return writeAlertTable(w, rows, res.Hits.Total.Value, q)
}

func searchAlerts(ctx context.Context, c *elasticsearch.Client, q alertsQuery) (alertsResponse, error) {
	var out alertsResponse
	body, err := json.Marshal(q.body())
	if err != nil {
		return out, fmt.Errorf("encode search: %w", err)
	}
	s := c.Search
	res, err := s(s.WithContext(ctx), s.WithIndex(q.alias), s.WithBody(bytes.NewReader(body)),
		s.WithIgnoreUnavailable(true), s.WithAllowNoIndices(true))
	if err != nil {
		return out, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return out, fmt.Errorf("read search response: %w", err)
	}
	if res.IsError() {
		return out, fmt.Errorf("search: %s: %s", res.Status(), ellipsize(string(raw), 300))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep AS numbers and other integers as written
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("decode search response: %w", err)
	}
	if out.Shards.Failed > 0 {
		reason := ""
		if len(out.Shards.Failures) > 0 {
			reason = out.Shards.Failures[0].Index + ": " + out.Shards.Failures[0].Reason.Reason
		}
		return out, fmt.Errorf("search: %d shards failed: %s", out.Shards.Failed, reason)
	}
	return out, nil
}

// alertRow is what esrule alerts shows of one alert.
type alertRow struct {
	Time        string `json:"time"` // kibana.alert.original_time
	Rule        string `json:"rule"`
	Actor       string `json:"actor"`
	SourceIP    string `json:"source_ip"`
	ASNumber    string `json:"as_number"`
	ASOrg       string `json:"as_organization"`
	Country     string `json:"country"`
	Reason      string `json:"reason"`
	ID          string `json:"id"`
	SourceIndex string `json:"source_index"`
	SourceID    string `json:"source_id"`
	NewTerms    []any  `json:"new_terms"`
}

func rowOf(h alertHit) alertRow {
	doc := h.Source
	get := func(paths ...string) string {
		for _, p := range paths {
			if s := displayText(fieldAt(doc, p)); s != "" {
				return s
			}
		}
		return ""
	}
	row := alertRow{
		Time:     get("kibana.alert.original_time", "@timestamp"),
		Rule:     get("kibana.alert.rule.name"),
		Actor:    get("okta.actor.alternate_id", "okta.actor.id", "user.name"),
		SourceIP: get("source.ip", "client.ip", "okta.client.ip"),
		Country:  get("source.geo.country_name", "client.geo.country_name", "okta.client.geographical_context.country"),
		Reason:   get("kibana.alert.reason"),
		ID:       h.ID,
	}
	// The proxy's autonomous system as Okta reports it, else as GeoIP does;
	// number and name from the same place.
	for _, prefix := range []string{"okta.security_context.as", "source.as", "client.as"} {
		row.ASNumber, row.ASOrg = get(prefix+".number"), get(prefix+".organization.name")
		if row.ASNumber != "" || row.ASOrg != "" {
			break
		}
	}
	if ancestors, ok := fieldAt(doc, "kibana.alert.ancestors").([]any); ok && len(ancestors) > 0 {
		if parent, ok := ancestors[len(ancestors)-1].(map[string]any); ok {
			row.SourceIndex, row.SourceID = displayText(parent["index"]), displayText(parent["id"])
		}
	}
	if terms, ok := fieldAt(doc, "kibana.alert.new_terms").([]any); ok {
		row.NewTerms = terms
	}
	return row
}

// fieldAt reads a dotted path from a document whose keys may themselves be
// dotted ("kibana.alert.reason" at the top, "okta": {"actor": ...} nested,
// or any mix), preferring the longest key at each level.
func fieldAt(doc map[string]any, path string) any {
	parts := strings.Split(path, ".")
	for i := len(parts); i >= 1; i-- {
		v, ok := doc[strings.Join(parts[:i], ".")]
		if !ok {
			continue
		}
		if i == len(parts) {
			return v
		}
		if inner, ok := v.(map[string]any); ok {
			if found := fieldAt(inner, strings.Join(parts[i:], ".")); found != nil {
				return found
			}
		}
	}
	return nil
}

// displayText renders a source value for display: arrays joined with commas.
func displayText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			if s := displayText(x); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	case map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

func writeAlertRowsJSON(w io.Writer, rows []alertRow) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write alert: %w", err)
		}
	}
	return nil
}

// writeAlertTable prints rows as aligned columns, then how many were shown.
func writeAlertTable(w io.Writer, rows []alertRow, total int, q alertsQuery) error {
	where := q.alias
	if !q.since.IsZero() {
		where += " since " + q.since.UTC().Format(time.RFC3339)
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
	if len(id) > 12 {
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
	s = strings.Join(strings.Fields(s), " ")
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
