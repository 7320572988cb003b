package alerts

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"
)

// kibanaReasonFields is mergedDoc.fields from Kibana's reason_formatter.test.ts.
func kibanaReasonFields() map[string]any {
	return map[string]any{
		"destination.ip":      []any{"9.99.99.9"},
		"destination.port":    []any{"6789"},
		"event.category":      []any{"test"},
		"file.name":           []any{"sample"},
		"host.name":           []any{"host"},
		"process.name":        []any{"doingThings.exe"},
		"process.parent.name": []any{"didThings.exe"},
		"source.ip":           []any{"1.11.11.1"},
		"source.port":         []any{"1234"},
		"user.name":           []any{"test-user"},
		"@timestamp":          "2021-08-11T02:28:59.101Z",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestReasonMessageKibanaExpectations(t *testing.T) {
	// Expected strings are Kibana's inline snapshots (reason_formatter.test.ts).
	dash := []any{"-"}
	full := "test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."
	flatSource := map[string]any{
		"destination.ip": "9.99.99.9", "destination.port": "6789", "event.category": "test", "file.name": "sample",
		"host.name": "host", "process.name": "doingThings.exe", "process.parent.name": "didThings.exe",
		"source.ip": "1.11.11.1", "source.port": "1234", "user.name": "test-user", "@timestamp": "2021-08-11T02:28:59.101Z",
	}
	tests := []struct {
		name           string
		source, fields map[string]any
		want           string
	}{
		{"fields only", nil, kibanaReasonFields(), full},
		{"dotted _source wins over fields", flatSource, map[string]any{"@timestamp": "x"}, full},
		{"array-wrapped _source", kibanaReasonFields(), kibanaReasonFields(), full},
		{"several categories", nil, with(kibanaReasonFields(), "event.category", []any{"item one", "item two"}),
			"item one, item two event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."},
		{"host is -", nil, with(kibanaReasonFields(), "host.name", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user created medium alert my-rule."},
		{"user is -", nil, with(kibanaReasonFields(), "user.name", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, on host created medium alert my-rule."},
		{"no destination port", nil, with(kibanaReasonFields(), "destination.port", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9 by test-user on host created medium alert my-rule."},
		{"no destination", nil, with(kibanaReasonFields(), "destination.ip", dash, "destination.port", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, by test-user on host created medium alert my-rule."},
		{"no source port", nil, with(kibanaReasonFields(), "source.port", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1 destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."},
		{"no source", nil, with(kibanaReasonFields(), "source.ip", dash, "source.port", dash),
			"test event with process doingThings.exe, parent process didThings.exe, file sample, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."},
		{"no process", nil, with(kibanaReasonFields(), "process.name", dash, "process.parent.name", dash),
			"test event with file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."},
		{"no field of interest", nil, map[string]any{"event.category": []any{"test"}, "user.name": []any{"test-user"}},
			"test event by test-user created medium alert my-rule."},
		{"threshold user", map[string]any{"@timestamp": "2022-08-16T11:01:09.848Z", "user.name": "Some User Name"}, nil,
			"event by Some User Name created medium alert my-rule."},
		{"threshold host and user", map[string]any{"host.name": "Some Host Name", "user.name": "Some User Name"}, nil,
			"event by Some User Name on Some Host Name created medium alert my-rule."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, reasonMessage("my-rule", "medium", tt.source, tt.fields))
		})
	}
}

func TestReasonMessageNestedSource(t *testing.T) {
	var source map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{
		"event": {"category": "authentication"},
		"source": {"ip": "8.42.77.171", "port": 22},
		"user": {"name": "root"},
		"host": {"name": "zeek-newyork-sha-aa8df15"}
	}`), &source))
	// Kibana's auditbeat example (docs/alerts.md, reason); a numeric port in _source has
	// no .length in JavaScript, so Kibana does not print it.
	require.Equal(t,
		"authentication event with source 8.42.77.171 by root on zeek-newyork-sha-aa8df15 created high alert Query with a rule id.",
		reasonMessage("Query with a rule id", "high", source, nil))

	source["source"].(map[string]any)["port"] = []any{float64(22)}
	require.Equal(t,
		"authentication event with source 8.42.77.171:22, by root on zeek-newyork-sha-aa8df15 created high alert Query with a rule id.",
		reasonMessage("Query with a rule id", "high", source, nil), "arrays of numbers are joined")

	require.Equal(t, "event created low alert r.", reasonMessage("r", "low", map[string]any{}, nil))
	require.Equal(t, "event with:7, created low alert r.",
		reasonMessage("r", "low", map[string]any{"source.port": "7", "source.ip": "null"}, nil),
		`a value reading "null" takes ICU's null branch but still counts as a field of interest`)
}
