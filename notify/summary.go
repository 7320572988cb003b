package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"text/template"
	"time"
)

// Summary is what a message says about an alert. It is the webhook body and
// the data of Action.LinkTemplate.
type Summary struct {
	// AlertID is the alert's _id (= kibana.alert.uuid), also sent as the
	// Idempotency-Key header of webhooks.
	AlertID string `json:"alert_id"`
	// Index is the concrete alerts index holding the alert.
	Index string `json:"index"`
	// Space is the alert's Kibana space (kibana.space_ids).
	Space     string   `json:"space,omitempty"`
	RuleName  string   `json:"rule_name"`
	RuleID    string   `json:"rule_id"`   // kibana.alert.rule.rule_id
	RuleUUID  string   `json:"rule_uuid"` // kibana.alert.rule.uuid
	Severity  string   `json:"severity"`
	RiskScore float64  `json:"risk_score"`
	NewTerms  []string `json:"new_terms"`
	Actor     Actor    `json:"actor"`
	SourceIP  string   `json:"source_ip,omitempty"`
	// Time is the time of the event that raised the alert
	// (kibana.alert.original_time, else @timestamp).
	Time time.Time `json:"time"`
	// CreatedAt is the alert's @timestamp (when esrule wrote it).
	CreatedAt time.Time `json:"created_at"`
	Reason    string    `json:"reason,omitempty"`
	// Link is the action's link_template applied to this summary.
	Link string `json:"link,omitempty"`
}

// Actor is who acted, from okta.actor.* (user.name when absent).
type Actor struct {
	ID          string `json:"id,omitempty"`
	AlternateID string `json:"alternate_id,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Type        string `json:"type,omitempty"`
}

// String is the actor for people: "Display Name (alternate id)".
func (a Actor) String() string {
	switch {
	case a.DisplayName != "" && a.AlternateID != "" && a.DisplayName != a.AlternateID:
		return a.DisplayName + " (" + a.AlternateID + ")"
	case a.AlternateID != "":
		return a.AlternateID
	case a.DisplayName != "":
		return a.DisplayName
	}
	return a.ID
}

// summaryFields are the fields a search asks for to build a Summary.
var summaryFields = []string{
	"@timestamp", "kibana.space_ids", "kibana.alert.rule.name", "kibana.alert.rule.rule_id", "kibana.alert.rule.uuid",
	"kibana.alert.severity", "kibana.alert.risk_score", "kibana.alert.new_terms",
	"kibana.alert.original_time", "kibana.alert.reason",
	"okta.actor.id", "okta.actor.alternate_id", "okta.actor.display_name", "okta.actor.type",
	"user.name", "source.ip", "okta.client.ip", "client.ip",
}

// summaryFromFields builds the Summary of an alert from the "fields" of its
// search hit (every value an array).
func summaryFromFields(index, id string, f map[string][]any) Summary {
	s := Summary{
		AlertID:   id,
		Index:     index,
		Space:     first(f, "kibana.space_ids"),
		RuleName:  first(f, "kibana.alert.rule.name"),
		RuleID:    first(f, "kibana.alert.rule.rule_id"),
		RuleUUID:  first(f, "kibana.alert.rule.uuid"),
		Severity:  first(f, "kibana.alert.severity"),
		NewTerms:  all(f, "kibana.alert.new_terms"),
		SourceIP:  first(f, "source.ip", "okta.client.ip", "client.ip"),
		Reason:    first(f, "kibana.alert.reason"),
		CreatedAt: parseTime(first(f, "@timestamp")),
		Actor: Actor{
			ID:          first(f, "okta.actor.id"),
			AlternateID: first(f, "okta.actor.alternate_id", "user.name"),
			DisplayName: first(f, "okta.actor.display_name"),
			Type:        first(f, "okta.actor.type"),
		},
	}
	s.Time = parseTime(first(f, "kibana.alert.original_time"))
	if s.Time.IsZero() {
		s.Time = s.CreatedAt
	}
	if v, err := strconv.ParseFloat(first(f, "kibana.alert.risk_score"), 64); err == nil {
		s.RiskScore = v
	}
	if s.NewTerms == nil {
		s.NewTerms = []string{}
	}
	return s
}

// withLink returns s with Link set from t (nil: no link).
func (s Summary) withLink(t *template.Template) (Summary, error) {
	if t == nil {
		return s, nil
	}
	var b bytes.Buffer
	if err := t.Execute(&b, s); err != nil {
		return s, fmt.Errorf("execute link template: %w", err)
	}
	s.Link = b.String()
	return s, nil
}

func first(f map[string][]any, names ...string) string {
	for _, n := range names {
		if vs := all(f, n); len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func all(f map[string][]any, name string) []string {
	var out []string
	for _, v := range f[name] {
		switch x := v.(type) {
		case nil:
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		default:
			b, _ := json.Marshal(x)
			out = append(out, string(b))
		}
	}
	return out
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
