package alerts

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFieldAt(t *testing.T) {
	doc := map[string]any{
		"kibana.alert.reason": "dotted",
		"okta":                map[string]any{"actor": map[string]any{"id": "nested"}, "security_context.as": map[string]any{"number": 1}},
		"source.ip":           []any{"192.0.2.1", "192.0.2.2"},
	}
	require.Equal(t, "dotted", fieldAt(doc, "kibana.alert.reason"))
	require.Equal(t, "nested", fieldAt(doc, "okta.actor.id"))
	require.Equal(t, 1, fieldAt(doc, "okta.security_context.as.number"))
	require.Equal(t, "192.0.2.1,192.0.2.2", displayText(fieldAt(doc, "source.ip")))
	require.Nil(t, fieldAt(doc, "okta.actor.alternate_id"))
}
