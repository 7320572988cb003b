package esclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esquery"
	"github.com/esrule/esrule/kql"
)

// FieldCaps asks _field_caps for fields (names or wildcard patterns, as
// kql.FieldNames returns them) over indices and returns the field specs
// Kibana's data view would hold (esquery.DecodeFieldCaps). Missing indices
// are ignored (ignore_unavailable, allow_no_indices), as the detection
// engine does. With no fields it returns an empty list without asking.
func (c *Client) FieldCaps(ctx context.Context, indices, fields []string) ([]kql.FieldSpec, error) {
	return FieldCaps(ctx, c, indices, fields)
}

// FieldCaps is Client.FieldCaps over any transport.
func FieldCaps(ctx context.Context, t esapi.Transport, indices, fields []string) ([]kql.FieldSpec, error) {
	if len(fields) == 0 {
		return []kql.FieldSpec{}, nil
	}
	yes := true
	r, err := Call(ctx, t, esapi.FieldCapsRequest{
		Index: PathIndices(indices), Fields: fields, IgnoreUnavailable: &yes, AllowNoIndices: &yes,
	})
	if err != nil {
		return nil, fmt.Errorf("field caps of %s: %w", strings.Join(indices, ","), err)
	}
	specs, err := esquery.DecodeFieldCaps(r.Body)
	if err != nil {
		return nil, fmt.Errorf("decode field caps of %s: %w", strings.Join(indices, ","), err)
	}
	return specs, nil
}
