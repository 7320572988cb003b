package alerts

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestECSCompliant(t *testing.T) {
	obj := map[string]any{"a": "b"}
	tests := []struct {
		path  string
		value any
		want  bool
	}{
		{"host.name", "web", true},
		{"host.name", obj, false},
		{"host.name", float64(3), true},
		{"user.name", "x", true}, // keyword with a .text multi-field is still a keyword
		{"user.name.text", "x", false},
		{"host", "web", false},
		{"host", obj, true},
		{"labels", "x", false},
		{"labels", obj, true},
		{"source.port", float64(22), true},
		{"source.port", "22", true},
		{"source.port", "2 2", false},
		{"source.port", "abc", false},
		{"source.port", "", true}, // Number("") is 0
		{"source.port", "0x16", true},
		{"source.port", true, false},
		{"source.port", json.Number("22"), true},
		{"host.cpu.usage", "0.5", true},
		{"host.cpu.usage", "half", false},
		{"source.ip", "10.1.2.3", true},
		{"source.ip", "fe80::1%eth0", true},
		{"source.ip", "10.0.0.0/8", true},
		{"source.ip", "2001:db8::/32", true},
		{"source.ip", "127.1", true}, // ipaddr.js accepts inet_aton forms
		{"source.ip", "0x7f.0.0.1", true},
		{"source.ip", "256.1.1.1", false},
		{"source.ip", "host", false},
		{"source.ip", float64(1), false},
		{"@timestamp", "2024-05-13T02:14:09.118Z", true},
		{"@timestamp", "2024-05-13", true},
		{"@timestamp", "2024-05-13T", true},
		{"@timestamp", "20240513T021409", true},
		{"@timestamp", "2024-02-30T00:00:00Z", false},
		{"@timestamp", "13/05/2024", false},
		{"@timestamp", float64(1715566449118), true},
		{"@timestamp", "1715566449118", true},
		{"@timestamp", obj, false},
		{"tls.established", "", true},
		{"tls.established", "true", true},
		{"tls.established", "yes", false},
		{"tls.established", false, true},
		{"source.geo.location", "52.1,4.2", true},
		{"source.geo.location", obj, true},
		{"host.name.extra", "x", false},
		{"dll.pe.sections", obj, true},
		{"dll.pe.sections", []any{obj, obj}, true},
		{"dll.pe.sections", []any{obj, "x"}, false},
		{"dll.pe.sections", "x", false},
		{"not.ecs.at.all", obj, true},
		{"custom", "x", true},
		{"okta.debug_context.debug_data.flattened", obj, true},
	}
	for _, tt := range tests {
		name := tt.path
		if b, err := json.Marshal(tt.value); err == nil {
			name += "=" + string(b)
		}
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tt.want, ecsCompliant(tt.value, tt.path))
		})
	}
}

func TestJSNumberFromString(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, true}, {"  12 ", 12, true}, {"1e3", 1000, true}, {".5", 0.5, true}, {"5.", 5, true},
		{"-0x10", 0, false}, {"0x10", 16, true}, {"0b101", 5, true}, {"0o17", 15, true},
		{"Infinity", 0, true}, {"1_000", 0, false}, {"12abc", 0, false}, {"NaN", 0, false}, {"inf", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := jsNumberFromString(tt.in)
			require.Equal(t, tt.ok, ok)
			if ok && tt.in != "Infinity" {
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestOriginalTime(t *testing.T) {
	tests := []struct {
		name           string
		source, fields map[string]any
		want           string
	}{
		{"fields first", map[string]any{"@timestamp": "2020-01-01T00:00:00Z"},
			map[string]any{"@timestamp": []any{"2024-05-13T02:14:09.118999Z"}}, "2024-05-13T02:14:09.118Z"},
		{"source", map[string]any{"@timestamp": "2020-04-20T21:27:45+0000"}, nil, "2020-04-20T21:27:45.000Z"},
		{"offset", map[string]any{"@timestamp": "2024-05-13T04:14:09+02:00"}, nil, "2024-05-13T02:14:09.000Z"},
		{"epoch number", map[string]any{"@timestamp": json.Number("1715566449118")}, nil, "2024-05-13T02:14:09.118Z"},
		{"epoch string", map[string]any{"@timestamp": "1715566449118"}, nil, "2024-05-13T02:14:09.118Z"},
		{"date only", map[string]any{"@timestamp": "2024-05-13"}, nil, "2024-05-13T00:00:00.000Z"},
		{"rfc 2822", map[string]any{"@timestamp": "Mon, 13 May 2024 02:14:09 +0000"}, nil, "2024-05-13T02:14:09.000Z"},
		{"garbage", map[string]any{"@timestamp": "yesterday"}, nil, ""},
		{"missing", map[string]any{}, nil, ""},
		{"object", map[string]any{"@timestamp": map[string]any{}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := originalTime(tt.source, tt.fields)
			if tt.want == "" {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, got.Format("2006-01-02T15:04:05.000Z"))
			require.Equal(t, time.UTC, got.Location())
		})
	}
}
