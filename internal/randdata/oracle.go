package randdata

import (
	"encoding/json"
	"fmt"

	"github.com/esrule/esrule/internal/oracle"
)

// oracleType is the oracle's name for a generator field type.
func oracleType(t FieldType) oracle.FieldType {
	switch t {
	case Long:
		return oracle.Long
	case Boolean:
		return oracle.Boolean
	case IP:
		return oracle.IP
	default:
		return oracle.Keyword
	}
}

// Oracle computes the expected alerts of the dataset's slots for the rule
// whose saved-object id is soID in space, with alertID as the alert-id hash
// (alerts.ID: the one thing the oracle shares with esrule). The oracle reads
// the documents as Elasticsearch stores them: JSON.
func (d Dataset) Oracle(space, soID string, alertID oracle.AlertIDFunc) ([]oracle.SlotResult, error) {
	p := oracle.Params{
		History: d.Rule.History, Lookback: d.Rule.Lookback, MaxSignals: d.Rule.MaxSignals,
		TimestampOverride: d.Rule.TimestampOverride(), FallbackDisabled: d.Rule.FallbackDisabled(),
		Match: QueryMatches, Space: space, RuleID: soID, AlertID: alertID,
	}
	for _, f := range d.Rule.Fields {
		p.Fields = append(p.Fields, oracle.Field{Name: f, Type: oracleType(TypeOf(f))})
	}
	docs := make([]oracle.Doc, len(d.Events))
	for i, e := range d.Events {
		b, err := json.Marshal(e.Source)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		var src map[string]any
		if err := json.Unmarshal(b, &src); err != nil {
			return nil, fmt.Errorf("decode event %s: %w", e.ID, err)
		}
		docs[i] = oracle.Doc{Index: e.Index, ID: e.ID, Source: src}
	}
	return oracle.Run(docs, p, d.Slots)
}
