package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// MaxListLimit is the largest ListQuery.Limit (index.max_result_window).
const MaxListLimit = 10000

// ListQuery selects alerts to read back from an alerts alias.
type ListQuery struct {
	// Alias is the alerts alias (or index pattern) to read.
	Alias string
	// Since keeps alerts whose kibana.alert.original_time is at or after it
	// (zero: no lower bound).
	Since time.Time
	// Limit keeps the latest Limit alerts (1 to MaxListLimit).
	Limit int
	// RuleIDs keeps alerts of these rule ids or rule_ids (none: all).
	RuleIDs []string
}

// Listed is what a listing shows of one alert.
type Listed struct {
	ID             string `json:"id"`
	Timestamp      string `json:"@timestamp"` // when the alert was written
	Time           string `json:"time"`       // kibana.alert.original_time
	RuleID         string `json:"rule_id"`    // kibana.alert.rule.rule_id
	RuleUUID       string `json:"rule_uuid"`  // kibana.alert.rule.uuid
	Rule           string `json:"rule"`       // kibana.alert.rule.name
	Severity       string `json:"severity"`
	RiskScore      any    `json:"risk_score"` // a number, null when missing
	WorkflowStatus string `json:"workflow_status"`
	ExecutionType  string `json:"execution_type"` // scheduled or manual
	Actor          string `json:"actor"`
	SourceIP       string `json:"source_ip"`
	ASNumber       string `json:"as_number"`
	ASOrg          string `json:"as_organization"`
	Country        string `json:"country"`
	Reason         string `json:"reason"`
	SourceIndex    string `json:"source_index"`
	SourceID       string `json:"source_id"`
	NewTerms       []any  `json:"new_terms"`
}

// Listing is the result of List: the alerts oldest first, and how many
// matched in all.
type Listing struct {
	Alerts []Listed
	Total  int
}

// body is the search request: the latest alerts first, so that Limit keeps
// the newest; List returns them oldest first.
func (q ListQuery) body() map[string]any {
	var filter []any
	if !q.Since.IsZero() {
		filter = append(filter, map[string]any{"range": map[string]any{
			"kibana.alert.original_time": map[string]any{"gte": q.Since.UTC().Format(time.RFC3339Nano)},
		}})
	}
	if len(q.RuleIDs) > 0 {
		filter = append(filter, map[string]any{"bool": map[string]any{
			"should": []any{
				map[string]any{"terms": map[string]any{"kibana.alert.rule.rule_id": q.RuleIDs}},
				map[string]any{"terms": map[string]any{"kibana.alert.rule.uuid": q.RuleIDs}},
			},
			"minimum_should_match": 1,
		}})
	}
	query := map[string]any{"match_all": map[string]any{}}
	if len(filter) > 0 {
		query = map[string]any{"bool": map[string]any{"filter": filter}}
	}
	return map[string]any{
		"size":             q.Limit,
		"track_total_hits": true,
		"query":            query,
		"sort": []any{
			map[string]any{"kibana.alert.original_time": map[string]any{"order": "desc", "unmapped_type": "date"}},
			map[string]any{"kibana.alert.uuid": map[string]any{"order": "desc", "unmapped_type": "keyword"}},
		},
	}
}

type listHit struct {
	ID     string         `json:"_id"`
	Source map[string]any `json:"_source"`
}

type listResponse struct {
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
		Hits []listHit `json:"hits"`
	} `json:"hits"`
}

// List reads the alerts q selects.
func List(ctx context.Context, t esapi.Transport, q ListQuery) (Listing, error) {
	body, err := json.Marshal(q.body())
	if err != nil {
		return Listing{}, fmt.Errorf("encode alerts search: %w", err)
	}
	yes := true
	r, err := esclient.Call(ctx, t, esapi.SearchRequest{
		Index: []string{q.Alias}, Body: bytes.NewReader(body), IgnoreUnavailable: &yes, AllowNoIndices: &yes,
	})
	if err != nil {
		return Listing{}, fmt.Errorf("read alerts from %s: %w", q.Alias, err)
	}
	var out listResponse
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber() // keep AS numbers and other integers as written
	if err := dec.Decode(&out); err != nil {
		return Listing{}, fmt.Errorf("decode alerts of %s: %w", q.Alias, err)
	}
	if out.Shards.Failed > 0 {
		reason := ""
		if len(out.Shards.Failures) > 0 {
			reason = out.Shards.Failures[0].Index + ": " + out.Shards.Failures[0].Reason.Reason
		}
		return Listing{}, fmt.Errorf("read alerts from %s: %d shards failed: %s", q.Alias, out.Shards.Failed, reason)
	}
	l := Listing{Total: out.Hits.Total.Value, Alerts: make([]Listed, 0, len(out.Hits.Hits))}
	for _, h := range slices.Backward(out.Hits.Hits) {
		l.Alerts = append(l.Alerts, listedOf(h))
	}
	return l, nil
}

func listedOf(h listHit) Listed {
	doc := h.Source
	get := func(paths ...string) string {
		for _, p := range paths {
			if s := displayText(fieldAt(doc, p)); s != "" {
				return s
			}
		}
		return ""
	}
	row := Listed{
		Time:     get("kibana.alert.original_time", "@timestamp"),
		Rule:     get("kibana.alert.rule.name"),
		Actor:    get("okta.actor.alternate_id", "okta.actor.id", "user.name"),
		SourceIP: get("source.ip", "client.ip", "okta.client.ip"),
		Country:  get("source.geo.country_name", "client.geo.country_name", "okta.client.geographical_context.country"),
		Reason:   get("kibana.alert.reason"),
		ID:       h.ID,

		Timestamp:      get("@timestamp"),
		RuleID:         get("kibana.alert.rule.rule_id"),
		RuleUUID:       get("kibana.alert.rule.uuid"),
		Severity:       get("kibana.alert.severity"),
		WorkflowStatus: get("kibana.alert.workflow_status"),
		ExecutionType:  get("kibana.alert.rule.execution.type"),
	}
	if n, ok := fieldAt(doc, "kibana.alert.risk_score").(json.Number); ok {
		row.RiskScore = n
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
