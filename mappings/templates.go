package mappings

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeEmbedded decodes an embedded JSON document, keeping numbers exact.
func decodeEmbedded(b []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("mappings: embedded JSON is invalid: %v", err))
	}
	return m
}

// alertsTemplateBody is the index template of a space's alerts indices.
func alertsTemplateBody(space string, replicas *int) map[string]any {
	t := decodeEmbedded(alertsTemplateJSON)
	t["index_patterns"] = []any{alertsIndexPattern(space)}
	t["priority"] = alertsTemplatePriority(space)
	setReplicas(t["template"].(map[string]any), replicas)
	return t
}

// oktaDemoTemplateBody is the demo/test index template for Okta data.
func oktaDemoTemplateBody(replicas *int) map[string]any {
	t := decodeEmbedded(oktaDemoTemplateJSON)
	setReplicas(t["template"].(map[string]any), replicas)
	return t
}

// stateIndexBody is the create-index body of the state index.
func stateIndexBody(replicas *int) map[string]any {
	b := decodeEmbedded(stateIndexJSON)
	setReplicas(b, replicas)
	return b
}

// setReplicas sets index.number_of_replicas in the "settings" of holder; nil
// leaves the cluster default.
func setReplicas(holder map[string]any, replicas *int) {
	if replicas == nil {
		return
	}
	settings, _ := holder["settings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
		holder["settings"] = settings
	}
	index, _ := settings["index"].(map[string]any)
	if index == nil {
		index = map[string]any{}
		settings["index"] = index
	}
	index["number_of_replicas"] = *replicas
}
