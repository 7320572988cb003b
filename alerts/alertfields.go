package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/esrule/esrule/rule"
)

// alertInputs are the per-hit values alertFields needs.
type alertInputs struct {
	id, space, name, severity string
	riskScore                 any
	reason                    string
	severityMapping           []rule.SeverityMapping
	execType                  string
	// params are the rule's parameters (ruleParameters), shared by every
	// alert of a Builder: read only, copied where the document holds them.
	params map[string]any
}

// alertFields is buildAlertFields plus the persistence wrapper's framework
// fields: flat dotted kibana.* keys, "@timestamp" and "event.kind". Values
// Kibana leaves undefined are omitted. Ancestors, depth and original_time are
// added by the caller.
func alertFields(r *rule.Rule, in alertInputs, o BuildOptions) (map[string]any, error) {
	params := in.params
	now := toISOString(o.Now)
	intended := now
	if !o.IntendedTimestamp.IsZero() {
		intended = toISOString(o.IntendedTimestamp)
	}
	indices := o.Indices
	if indices == nil {
		indices = r.Index
	}
	// Rule-level values are taken from the marshalled parameters so that every
	// array and object in the document is a fresh copy.
	p := func(key string) any { return deepCopy(params[key]) }

	f := map[string]any{
		"@timestamp":                            now,
		"event.kind":                            "signal",
		"kibana.space_ids":                      []any{in.space},
		"kibana.alert.uuid":                     in.id,
		"kibana.alert.status":                   "active",
		"kibana.alert.workflow_status":          "open",
		"kibana.alert.workflow_tags":            []any{},
		"kibana.alert.workflow_assignee_ids":    []any{},
		"kibana.alert.reason":                   in.reason,
		"kibana.alert.severity":                 in.severity,
		"kibana.alert.risk_score":               in.riskScore,
		"kibana.alert.intended_timestamp":       intended,
		"kibana.alert.start":                    now,
		"kibana.alert.last_detected":            now,
		"kibana.alert.rule.parameters":          deepCopy(params),
		"kibana.alert.rule.actions":             []any{},
		"kibana.alert.rule.author":              p("author"),
		"kibana.alert.rule.created_by":          o.RuleCreatedBy,
		"kibana.alert.rule.updated_by":          o.RuleUpdatedBy,
		"kibana.alert.rule.description":         r.Description,
		"kibana.alert.rule.enabled":             r.Enabled,
		"kibana.alert.rule.exceptions_list":     p("exceptions_list"),
		"kibana.alert.rule.false_positives":     p("false_positives"),
		"kibana.alert.rule.from":                p("from"),
		"kibana.alert.rule.to":                  p("to"),
		"kibana.alert.rule.immutable":           false,
		"kibana.alert.rule.interval":            firstNonEmpty(r.Interval, rule.DefaultInterval),
		"kibana.alert.rule.indices":             deepCopy(stringsToAny(indices)),
		"kibana.alert.rule.max_signals":         p("max_signals"),
		"kibana.alert.rule.name":                in.name,
		"kibana.alert.rule.references":          p("references"),
		"kibana.alert.rule.risk_score_mapping":  p("risk_score_mapping"),
		"kibana.alert.rule.severity_mapping":    p("severity_mapping"),
		"kibana.alert.rule.rule_id":             r.RuleID,
		"kibana.alert.rule.tags":                stringsToAny(r.Tags),
		"kibana.alert.rule.threat":              p("threat"),
		"kibana.alert.rule.type":                ruleType,
		"kibana.alert.rule.uuid":                r.SavedObjectID(),
		"kibana.alert.rule.version":             r.Version,
		"kibana.alert.rule.risk_score":          r.RiskScore,
		"kibana.alert.rule.severity":            r.Severity,
		"kibana.alert.rule.consumer":            ruleConsumer,
		"kibana.alert.rule.producer":            ruleProducer,
		"kibana.alert.rule.category":            ruleCategory,
		"kibana.alert.rule.rule_type_id":        ruleTypeID,
		"kibana.alert.rule.revision":            0,
		"kibana.alert.rule.execution.type":      in.execType,
		"kibana.alert.rule.execution.timestamp": now,
	}
	optional := map[string]string{
		"kibana.alert.rule.execution.uuid":      o.ExecutionUUID,
		"kibana.version":                        o.KibanaVersion,
		"kibana.alert.rule.license":             r.License,
		"kibana.alert.rule.note":                r.Note,
		"kibana.alert.rule.rule_name_override":  r.RuleNameOverride,
		"kibana.alert.rule.timestamp_override":  r.TimestampOverride,
		"kibana.alert.building_block_type":      r.BuildingBlockType,
		"kibana.alert.rule.building_block_type": r.BuildingBlockType,
	}
	for k, v := range optional {
		if v != "" {
			f[k] = v
		}
	}
	if !o.RuleCreatedAt.IsZero() {
		f["kibana.alert.rule.created_at"] = toISOString(o.RuleCreatedAt)
	}
	if !o.RuleUpdatedAt.IsZero() {
		f["kibana.alert.rule.updated_at"] = toISOString(o.RuleUpdatedAt)
	}
	if meta, ok := params["meta"].(map[string]any); ok {
		flattenWithPrefix("kibana.alert.rule.meta", deepCopy(meta), func(k string, v any) { f[k] = v })
	}
	return f, nil
}

// ruleParameters is kibana.alert.rule.parameters: the rule's snake_case
// parameters (rule.Rule's JSON minus the non-parameter attributes id, name,
// interval, tags and enabled) with Kibana's defaults for custom rules.
func ruleParameters(r *rule.Rule, severityMapping []rule.SeverityMapping) (map[string]any, error) {
	rc := *r
	rc.SeverityMapping = severityMapping
	raw, err := json.Marshal(&rc)
	if err != nil {
		return nil, fmt.Errorf("encode rule parameters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var params map[string]any
	if err := dec.Decode(&params); err != nil {
		return nil, fmt.Errorf("decode rule parameters: %w", err)
	}
	for _, k := range []string{"id", "name", "interval", "tags", "enabled"} {
		delete(params, k)
	}
	for _, k := range []string{"author", "false_positives", "references", "threat", "severity_mapping",
		"risk_score_mapping", "exceptions_list", "index", "new_terms_fields"} {
		if params[k] == nil {
			params[k] = []any{}
		}
	}
	if m, ok := params["meta"].(map[string]any); ok && len(m) == 0 {
		delete(params, "meta")
	}
	params["type"] = ruleType
	if params["language"] == "" {
		params["language"] = rule.DefaultLanguage
	}
	params["immutable"] = false
	params["related_integrations"] = []any{}
	params["required_fields"] = []any{}
	params["rule_source"] = map[string]any{"type": "internal"}
	if _, ok := params["setup"]; !ok {
		params["setup"] = ""
	}
	return params, nil
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
