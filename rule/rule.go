// Package rule holds the new_terms detection rule as data: its parameters with
// Kibana's defaults, the loaders for detection-rules TOML and Kibana export
// NDJSON, validation, and the built-in Okta rule. It performs no I/O beyond
// reading rule files.
package rule

import "encoding/json"

// Kibana's defaults for parameters a rule may leave out.
const (
	DefaultFrom       = "now-6m"
	DefaultTo         = "now"
	DefaultInterval   = "5m"
	DefaultMaxSignals = 100
	DefaultSpace      = "default"
	DefaultLanguage   = "kuery"

	// MaxNewTermsFields is Kibana's MAX_NUMBER_OF_NEW_TERMS_FIELDS.
	MaxNewTermsFields = 3
)

// Rule is one new_terms rule with every parameter that affects execution or the
// alert document. JSON names follow Kibana's rule API (snake_case), so that the
// struct marshals into kibana.alert.rule.parameters.
type Rule struct {
	// ID is the rule's saved-object id, used in the alert _id hash. Defaults to RuleID.
	ID     string `json:"id,omitempty"`
	RuleID string `json:"rule_id"`

	Name        string   `json:"name"`
	Description string   `json:"description"`
	Type        string   `json:"type"`     // always "new_terms" once validated
	Language    string   `json:"language"` // "kuery" or "lucene"
	Query       string   `json:"query"`
	Index       []string `json:"index"`
	// DataViewID names a Kibana data view. esrule cannot resolve data views,
	// so a rule with one must also list the view's index patterns in Index.
	DataViewID string `json:"data_view_id,omitempty"`
	// Filters are Kibana filter objects (rare in shipped rules), kept as raw
	// JSON; validation checks them and FilterClauses translates them.
	Filters []json.RawMessage `json:"filters,omitempty"`

	NewTermsFields     []string `json:"new_terms_fields"`
	HistoryWindowStart string   `json:"history_window_start"` // date math, e.g. "now-7d"

	From       string `json:"from"`     // date math relative to the slot time; defaults to now-6m
	To         string `json:"to"`       // defaults to "now"
	Interval   string `json:"interval"` // e.g. "5m"; defaults to 5m
	MaxSignals int    `json:"max_signals"`

	TimestampOverride                 string `json:"timestamp_override,omitempty"`
	TimestampOverrideFallbackDisabled bool   `json:"timestamp_override_fallback_disabled,omitempty"`

	Severity          string             `json:"severity"`
	RiskScore         int                `json:"risk_score"`
	SeverityMapping   []SeverityMapping  `json:"severity_mapping"`
	RiskScoreMapping  []RiskScoreMapping `json:"risk_score_mapping"`
	RuleNameOverride  string             `json:"rule_name_override,omitempty"`
	BuildingBlockType string             `json:"building_block_type,omitempty"`

	Threat         []Threat          `json:"threat"`
	Tags           []string          `json:"tags"`
	References     []string          `json:"references"`
	Author         []string          `json:"author"`
	FalsePositives []string          `json:"false_positives"`
	License        string            `json:"license,omitempty"`
	Note           string            `json:"note,omitempty"`
	Setup          string            `json:"setup,omitempty"`
	Version        int               `json:"version"`
	ExceptionsList []json.RawMessage `json:"exceptions_list"`
	Meta           map[string]any    `json:"meta,omitempty"`
	Enabled        bool              `json:"enabled"`

	// Space is the Kibana space the alerts belong to; defaults to "default".
	// Rule files may set it with the esrule extension key space_id.
	Space string `json:"-"`
	// Origin says where the rule came from: a file path (with line where known) or "built-in".
	Origin string `json:"-"`

	// Timing and Timestamps are set by Normalize: downstream code reads
	// them and never parses or defaults the fields above again.
	Timing     Timing     `json:"-"`
	Timestamps Timestamps `json:"-"`
}

// Threat is one MITRE ATT&CK mapping entry, as in Kibana's rule API.
type Threat struct {
	Framework string      `json:"framework"`
	Tactic    ThreatRef   `json:"tactic"`
	Technique []Technique `json:"technique,omitempty"`
}

// ThreatRef names a tactic, technique or subtechnique.
type ThreatRef struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Reference string `json:"reference"`
}

// Technique is a MITRE technique with optional subtechniques.
type Technique struct {
	ThreatRef
	Subtechnique []ThreatRef `json:"subtechnique,omitempty"`
}

// SeverityMapping overrides the severity from a source field value.
type SeverityMapping struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Value    string `json:"value"`
	Severity string `json:"severity"`
}

// RiskScoreMapping overrides the risk score from a numeric source field.
type RiskScoreMapping struct {
	Field     string `json:"field"`
	Operator  string `json:"operator"`
	Value     string `json:"value"`
	RiskScore *int   `json:"risk_score,omitempty"`
}

// SavedObjectID is the id used in alert ids and kibana.alert.rule.uuid: ID, else RuleID.
func (r *Rule) SavedObjectID() string {
	if r.ID != "" {
		return r.ID
	}
	return r.RuleID
}
