// Package alerts turns new-term hits into Kibana-compatible alert documents
// (ids, document body) and writes them to the alerts index with bulk create.
package alerts

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/esrule/esrule/rule"
)

// Hit is a search hit: the source document the alert is built from.
type Hit struct {
	Index, ID string
	Source    map[string]any
	// Fields is the hit's `fields` section (values are arrays), may be nil.
	Fields map[string]any
}

// Execution types for kibana.alert.rule.execution.type.
const (
	ExecutionScheduled = "scheduled"
	ExecutionManual    = "manual"
)

// BuildOptions carries what the alert needs besides the rule and the hit.
type BuildOptions struct {
	// Space is the Kibana space; defaults to the rule's, then "default".
	Space         string
	ExecutionUUID string
	// ExecutionType is "scheduled" or "manual" (backfill); empty means manual
	// when IntendedTimestamp is set, else scheduled.
	ExecutionType string
	// Now is the write time: @timestamp, kibana.alert.start, last_detected.
	Now time.Time
	// IntendedTimestamp is the slot a manual run stands in for.
	IntendedTimestamp time.Time
	KibanaVersion     string

	// Indices are the resolved input index patterns (kibana.alert.rule.indices); defaults to the rule's index.
	Indices []string
	// RuleCreatedAt/RuleUpdatedAt fill kibana.alert.rule.created_at/updated_at; omitted when zero.
	RuleCreatedAt, RuleUpdatedAt time.Time
	// RuleCreatedBy/RuleUpdatedBy fill created_by/updated_by; Kibana writes "" when unknown.
	RuleCreatedBy, RuleUpdatedBy string
}

// Alert is one alert ready to be written: its _id and document.
type Alert struct {
	ID  string
	Doc map[string]any
	// Removed lists source values dropped as ECS-incompatible or reserved (for debug logs).
	Removed []RemovedField
}

// Kibana's constants for the new_terms rule type.
const (
	ruleCategory = "New Terms Rule"
	ruleTypeID   = "siem.newTermsRule"
	ruleProducer = "siem"
	ruleConsumer = "siem"
	ruleType     = "new_terms"
)

// Build makes the alert document Kibana's new_terms rule would write for hit
// (transformHitToAlert plus wrapNewTermsAlerts and the persistence wrapper's
// augmentation; docs/alerts.md). newTerms are the term values in
// new_terms_fields order. hit is not modified. A Builder does the same for
// many alerts of one rule without encoding the rule's parameters each time.
func Build(r *rule.Rule, hit Hit, newTerms []any, o BuildOptions) (Alert, error) {
	b, err := NewBuilder(r)
	if err != nil {
		return Alert{}, err
	}
	return b.Build(hit, newTerms, o)
}

// Builder builds the alerts of one rule, which must not change meanwhile.
type Builder struct {
	r               *rule.Rule
	severityMapping []rule.SeverityMapping
	params          map[string]any
}

// NewBuilder prepares the rule-level parts of r's alerts.
func NewBuilder(r *rule.Rule) (*Builder, error) {
	if r == nil {
		return nil, errors.New("build alert: no rule")
	}
	severityMapping := sortSeverityMapping(r.SeverityMapping)
	params, err := ruleParameters(r, severityMapping)
	if err != nil {
		return nil, fmt.Errorf("build alert: %w", err)
	}
	return &Builder{r: r, severityMapping: severityMapping, params: params}, nil
}

// Build is the package-level Build for the Builder's rule.
func (b *Builder) Build(hit Hit, newTerms []any, o BuildOptions) (Alert, error) {
	r := b.r
	switch {
	case hit.Index == "" || hit.ID == "":
		return Alert{}, fmt.Errorf("build alert: hit lacks _index or _id (index %q, id %q)", hit.Index, hit.ID)
	case hit.Source == nil:
		return Alert{}, fmt.Errorf("build alert from %s/%s: hit has no _source", hit.Index, hit.ID)
	case o.Now.IsZero():
		return Alert{}, errors.New("build alert: BuildOptions.Now is not set")
	}
	execType, err := executionType(o)
	if err != nil {
		return Alert{}, err
	}
	space := firstNonEmpty(o.Space, r.Space, rule.DefaultSpace)
	if newTerms == nil {
		newTerms = []any{}
	}

	source := deepCopy(hit.Source).(map[string]any)
	merged := mergeMissingFields(source, hit.Fields)

	severityMapping := b.severityMapping
	name := ruleNameFromMapping(merged, r.Name, r.RuleNameOverride)
	severity := severityFromMapping(merged, r.Severity, severityMapping)
	var riskScore any = r.RiskScore
	if score, ok := riskScoreFromMapping(merged, r.RiskScoreMapping); ok {
		riskScore = jsonNumber(score)
	}
	id := ID(hit.Index, hit.ID, space, r.SavedObjectID(), newTerms)

	fields, err := alertFields(r, alertInputs{
		id: id, space: space, name: name, severity: severity, riskScore: riskScore,
		reason:          reasonMessage(name, severity, merged, hit.Fields),
		severityMapping: severityMapping,
		execType:        execType,
		params:          b.params,
	}, o)
	if err != nil {
		return Alert{}, fmt.Errorf("build alert from %s/%s: %w", hit.Index, hit.ID, err)
	}
	fields["kibana.alert.ancestors"], fields["kibana.alert.depth"] = ancestors(hit.Index, hit.ID, merged)
	if t, ok := originalTime(merged, hit.Fields); ok {
		fields["kibana.alert.original_time"] = toISOString(t)
	}

	doc, removed := traverseAndMutateDoc(merged)
	// The alert sets a dotted "event.kind": "signal"; drop the source's own kind.
	if robustGet(doc, "event.kind") != nil {
		if ev, ok := doc["event"].(map[string]any); ok {
			delete(ev, "kind")
		}
	}
	for k, v := range fields {
		doc[k] = v
	}
	doc["kibana.alert.new_terms"] = deepCopy(newTerms)
	return Alert{ID: id, Doc: doc, Removed: removed}, nil
}

func executionType(o BuildOptions) (string, error) {
	switch o.ExecutionType {
	case ExecutionScheduled, ExecutionManual:
		return o.ExecutionType, nil
	case "":
		if !o.IntendedTimestamp.IsZero() {
			return ExecutionManual, nil
		}
		return ExecutionScheduled, nil
	}
	return "", fmt.Errorf("build alert: execution type %q is neither %q nor %q", o.ExecutionType, ExecutionScheduled, ExecutionManual)
}

// ancestors is buildAncestors/buildParent: the source's own ancestors (when
// it is itself an alert) followed by the source, and the new depth.
func ancestors(index, id string, source map[string]any) ([]any, any) {
	isAlert := source["kibana.alert.uuid"] != nil
	isLegacySignal := !isAlert && source["signal"] != nil
	get := func(field string) any {
		if isLegacySignal {
			return lodashGet(source, legacySignalField(field))
		}
		return lodashGet(source, field)
	}
	parent := map[string]any{"id": id, "index": index, "type": "event", "depth": 0}
	var parentDepth any = 0
	if isAlert || isLegacySignal {
		parentDepth = get("kibana.alert.depth")
		if parentDepth == nil {
			parentDepth = 1
		}
		parent["type"] = "signal"
		parent["depth"] = deepCopy(parentDepth)
		if ruleUUID := get("kibana.alert.rule.uuid"); ruleUUID != nil {
			parent["rule"] = deepCopy(ruleUUID)
		}
	}
	var list []any
	if existing, ok := get("kibana.alert.ancestors").([]any); ok {
		list = append(list, deepCopy(existing).([]any)...)
	}
	list = append(list, parent)

	// depth = Math.max(parent.depth, 0) + 1, with JS coercion of strings.
	d, ok := toFloat(parentDepth)
	if s, isString := parentDepth.(string); isString {
		d, ok = jsNumberFromString(s)
	}
	if !ok || math.IsNaN(d) {
		return list, nil // NaN serialises as null in JSON.stringify
	}
	return list, jsonNumber(math.Max(d, 0) + 1)
}

// legacySignalField maps kibana.alert.* names to pre-8.0 signal.* ones.
func legacySignalField(field string) string {
	if field == "kibana.alert.rule.uuid" {
		return "signal.rule.id"
	}
	if len(field) > len("kibana.alert.") && field[:len("kibana.alert.")] == "kibana.alert." {
		return "signal." + field[len("kibana.alert."):]
	}
	return field
}

// jsonNumber returns f as an int when integral, so it marshals without ".0" noise.
func jsonNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// deepCopy copies decoded JSON (maps and slices); other values are shared.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
