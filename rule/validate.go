package rule

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/esrule/esrule/kql"
)

// Kibana's message when history_window_start is not earlier than from
// (validateHistoryWindowStart in the new_terms utils.ts).
const historyWindowMessage = "History window size is smaller than rule interval + additional lookback, " +
	"'historyWindowStart' must be earlier than 'from'"

// validationReferenceTime is the fixed "now" at which from, to and
// history_window_start are compared, so validation never depends on the clock.
var validationReferenceTime = time.Date(2024, time.June, 12, 12, 0, 0, 0, time.UTC)

// unsupportedTypes are Kibana's other rule types, refused by name.
var unsupportedTypes = map[string]bool{
	"eql": true, "esql": true, "threshold": true, "machine_learning": true,
	"threat_match": true, "query": true, "saved_query": true,
}

var severities = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}

// spaceIDPattern is Kibana's rule for space ids; the space is part of index names.
var spaceIDPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate returns every problem with the rule; none means it can run. Empty
// from, to, interval, language and max_signals count as Kibana's defaults.
// Problems carry the rule's Origin as File and no line.
func (r *Rule) Validate() []Problem {
	ps, _ := r.validate()
	return ps
}

// validate is Validate plus the character offset of a KQL syntax error in the
// query (-1 when there is none), so loaders can point at the query's line.
func (r *Rule) validate() ([]Problem, int) {
	v := validator{file: r.Origin, kqlOffset: -1}
	if r.Type != "" && r.Type != TypeNewTerms {
		// Another rule type: its other parameters mean something else.
		v.ruleType(r.Type)
		return v.problems, v.kqlOffset
	}
	v.required("rule_id", r.RuleID)
	v.required("name", r.Name)
	v.required("description", r.Description)
	v.ruleType(r.Type)
	v.languageAndQuery(r.Language, r.Query)
	v.indexOrDataView(r)
	v.newTermsFields(r.NewTermsFields)
	v.windows(r)
	if r.MaxSignals < 0 {
		v.add("max_signals", "must be at least 1, got %d", r.MaxSignals)
	}
	v.severity(r)
	v.threat(r.Threat)
	if r.Version < 0 {
		v.add("version", "must be at least 1, got %d", r.Version)
	}
	if r.BuildingBlockType != "" && r.BuildingBlockType != "default" {
		v.add("building_block_type", "want \"default\" or nothing, got %q", r.BuildingBlockType)
	}
	if r.Space != "" {
		if err := validateSpace(r.Space); err != nil {
			v.add("space", "%v", err)
		}
	}
	for i, e := range r.ExceptionsList {
		v.add(fmt.Sprintf("exceptions_list[%d]", i),
			"exception list %s cannot be resolved: esrule has no exception lists; "+
				"remove the reference and fold the exception into the query", exceptionListName(e))
	}
	v.filters(r.Filters)
	return v.problems, v.kqlOffset
}

type validator struct {
	file      string
	problems  []Problem
	kqlOffset int
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.file, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) required(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
	}
}

func (v *validator) ruleType(t string) {
	switch {
	case t == TypeNewTerms:
	case t == "":
		v.add("type", "is required (esrule runs type new_terms)")
	case unsupportedTypes[t]:
		v.add("type", "rule type %q is not supported: esrule runs new_terms rules only", t)
	default:
		v.add("type", "unknown rule type %q: esrule runs new_terms rules only", t)
	}
}

func (v *validator) languageAndQuery(language, query string) {
	switch language {
	case "", "kuery":
	case "lucene":
		v.lucene(query)
		return
	default:
		v.add("language", "%q is not a new_terms query language; want kuery or lucene", language)
		return
	}
	if strings.TrimSpace(query) == "" {
		v.add("query", "is required")
		return
	}
	if _, err := kql.Parse(query); err != nil {
		var se *kql.SyntaxError
		if errors.As(err, &se) {
			v.kqlOffset = se.Offset
			v.add("query", "invalid KQL at character %d: %s", se.Offset, se.Message)
			return
		}
		v.add("query", "invalid KQL: %v", err)
	}
}

func (v *validator) index(index []string) {
	if len(index) == 0 {
		v.add("index", "is required: at least one index pattern")
		return
	}
	for i, p := range index {
		if err := ValidateIndexPattern(p); err != nil {
			v.add(fmt.Sprintf("index[%d]", i), "%v", err)
		}
	}
}

func (v *validator) newTermsFields(fields []string) {
	switch {
	case len(fields) == 0:
		v.add("new_terms_fields", "is required: 1 to %d fields", MaxNewTermsFields)
		return
	case len(fields) > MaxNewTermsFields:
		v.add("new_terms_fields", "has %d fields; Kibana allows at most %d", len(fields), MaxNewTermsFields)
	}
	seen := map[string]bool{}
	for i, f := range fields {
		switch {
		case strings.TrimSpace(f) == "":
			v.add(fmt.Sprintf("new_terms_fields[%d]", i), "is empty")
		case seen[f]:
			v.add(fmt.Sprintf("new_terms_fields[%d]", i), "%q is listed twice; fields must be unique", f)
		case newTermsFieldProblem(f) != "":
			v.add(fmt.Sprintf("new_terms_fields[%d]", i), "%s", newTermsFieldProblem(f))
		}
		seen[f] = true
	}
}

func (v *validator) windows(r *Rule) {
	var history, from, to DateMath
	var historyOK, fromOK, toOK bool
	if strings.TrimSpace(r.HistoryWindowStart) == "" {
		v.add("history_window_start", "is required, e.g. now-7d")
	} else {
		history, historyOK = v.dateMath("history_window_start", r.HistoryWindowStart)
	}
	from, fromOK = v.dateMath("from", orDefault(r.From, DefaultFrom))
	to, toOK = v.dateMath("to", orDefault(r.To, DefaultTo))
	if _, err := ParseInterval(orDefault(r.Interval, DefaultInterval)); err != nil {
		v.add("interval", "%v", err)
	}
	// The window as the executor computes it (detect.WindowAt): from and
	// to relative to the slot, the history start relative to to.
	now := validationReferenceTime
	fromOK = fromOK && v.windowTime("from", from.At(now))
	toOK = toOK && v.windowTime("to", to.At(now))
	if historyOK && toOK {
		historyOK = v.windowTime("history_window_start", history.At(to.At(now)))
	}
	if historyOK && fromOK && toOK && !history.At(to.At(now)).Before(from.At(now)) {
		v.add("history_window_start", "%s", historyWindowMessage)
	}
	if fromOK && toOK && !from.At(now).Before(to.At(now)) {
		v.add("from", "%q must be earlier than to %q", orDefault(r.From, DefaultFrom), orDefault(r.To, DefaultTo))
	}
}

// windowTime reports a window bound outside the years 1 to 9999.
func (v *validator) windowTime(field string, t time.Time) bool {
	if err := checkWindowTime(t); err != nil {
		v.add(field, "%v", err)
		return false
	}
	return true
}

func (v *validator) dateMath(field, s string) (DateMath, bool) {
	d, err := ParseDateMath(s)
	if err != nil {
		v.add(field, "%v", err)
		return d, false
	}
	return d, true
}

func (v *validator) severity(r *Rule) {
	switch {
	case r.Severity == "":
		v.add("severity", "is required: low, medium, high or critical")
	case !severities[r.Severity]:
		v.add("severity", "%q is not one of low, medium, high, critical", r.Severity)
	}
	if r.RiskScore < 0 || r.RiskScore > 100 {
		v.add("risk_score", "must be between 0 and 100, got %d", r.RiskScore)
	}
	for i, m := range r.SeverityMapping {
		if !severities[m.Severity] {
			v.add(fmt.Sprintf("severity_mapping[%d].severity", i), "%q is not one of low, medium, high, critical", m.Severity)
		}
		if m.Field == "" {
			v.add(fmt.Sprintf("severity_mapping[%d].field", i), "is required")
		}
		if m.Operator != "equals" {
			v.add(fmt.Sprintf("severity_mapping[%d].operator", i), "want \"equals\", got %q", m.Operator)
		}
	}
	for i, m := range r.RiskScoreMapping {
		if m.Field == "" {
			v.add(fmt.Sprintf("risk_score_mapping[%d].field", i), "is required")
		}
		if m.Operator != "equals" {
			v.add(fmt.Sprintf("risk_score_mapping[%d].operator", i), "want \"equals\", got %q", m.Operator)
		}
		if m.RiskScore != nil && (*m.RiskScore < 0 || *m.RiskScore > 100) {
			v.add(fmt.Sprintf("risk_score_mapping[%d].risk_score", i), "must be between 0 and 100, got %d", *m.RiskScore)
		}
	}
}

func (v *validator) threat(threats []Threat) {
	for i, t := range threats {
		if t.Framework == "" {
			v.add(fmt.Sprintf("threat[%d].framework", i), "is required, e.g. \"MITRE ATT&CK\"")
		}
		if t.Tactic.ID == "" || t.Tactic.Name == "" {
			v.add(fmt.Sprintf("threat[%d].tactic", i), "needs an id and a name")
		}
		for j, tech := range t.Technique {
			if tech.ID == "" || tech.Name == "" {
				v.add(fmt.Sprintf("threat[%d].technique[%d]", i, j), "needs an id and a name")
			}
		}
	}
}
