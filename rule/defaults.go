package rule

import (
	"encoding/json"
	"time"
)

// TypeNewTerms is the only rule type esrule runs.
const TypeNewTerms = "new_terms"

// OriginBuiltin is the Origin of the built-in rule.
const OriginBuiltin = "built-in"

// DefaultVersion is the version Kibana gives a rule that does not set one.
const DefaultVersion = 1

// ApplyDefaults fills every parameter left empty with Kibana's default: from
// now-6m, to now, interval 5m, max_signals 100, language kuery, space default,
// version 1, id = rule_id, and empty (not nil) lists.
func (r *Rule) ApplyDefaults() {
	if r.ID == "" {
		r.ID = r.RuleID
	}
	if r.Language == "" {
		r.Language = DefaultLanguage
	}
	if r.From == "" {
		r.From = DefaultFrom
	}
	if r.To == "" {
		r.To = DefaultTo
	}
	if r.Interval == "" {
		r.Interval = DefaultInterval
	}
	if r.MaxSignals == 0 {
		r.MaxSignals = DefaultMaxSignals
	}
	if r.Version == 0 {
		r.Version = DefaultVersion
	}
	if r.Space == "" {
		r.Space = DefaultSpace
	}
	if r.SeverityMapping == nil {
		r.SeverityMapping = []SeverityMapping{}
	}
	if r.RiskScoreMapping == nil {
		r.RiskScoreMapping = []RiskScoreMapping{}
	}
	if r.Threat == nil {
		r.Threat = []Threat{}
	}
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if r.References == nil {
		r.References = []string{}
	}
	if r.Author == nil {
		r.Author = []string{}
	}
	if r.FalsePositives == nil {
		r.FalsePositives = []string{}
	}
	if r.ExceptionsList == nil {
		r.ExceptionsList = []json.RawMessage{}
	}
}

// AlignSlot rounds t down to a multiple of interval counted from the Unix
// epoch, so every process agrees on a rule's slot times.
func AlignSlot(t time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return t.UTC()
	}
	ns := t.UnixNano()
	rem := ns % int64(interval)
	if rem < 0 {
		rem += int64(interval)
	}
	return time.Unix(0, ns-rem).UTC()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
