package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// IndicesWithoutMapping returns the indices behind alias whose mapping lacks
// Field. EnsureMapping skips indices it may not change (ignore_unavailable),
// so a caller that must know, like esrule setup for Kibana's alerts indices,
// checks afterwards.
func IndicesWithoutMapping(ctx context.Context, c esapi.Transport, alias string) ([]string, error) {
	b, err := call(ctx, c, esapi.IndicesGetAliasRequest{Name: []string{alias}, ExpandWildcards: "all"}, "get the indices of "+alias)
	if err != nil {
		return nil, err
	}
	var indices map[string]json.RawMessage
	if err := json.Unmarshal(b, &indices); err != nil {
		return nil, fmt.Errorf("decode the indices of %s: %w", alias, err)
	}
	b, err = call(ctx, c, esapi.IndicesGetFieldMappingRequest{Index: []string{alias}, Fields: []string{Field}, ExpandWildcards: "all"},
		"get the mapping of "+Field+" in "+alias)
	if err != nil {
		return nil, err
	}
	var got map[string]struct {
		Mappings map[string]json.RawMessage `json:"mappings"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, fmt.Errorf("decode the mapping of %s in %s: %w", Field, alias, err)
	}
	var missing []string
	for index := range indices {
		if _, ok := got[index].Mappings[Field]; !ok {
			missing = append(missing, index)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// mappingMissing reports whether an index behind aliases lacks a mapping
// of Field (GET _mapping/field, allowed by view_index_metadata).
func mappingMissing(ctx context.Context, c esapi.Transport, aliases []string) (bool, error) {
	t := true
	b, err := call(ctx, c, esapi.IndicesGetFieldMappingRequest{
		Index: aliases, Fields: []string{Field}, IgnoreUnavailable: &t, AllowNoIndices: &t,
	}, "read the esrule.notify mapping of "+strings.Join(aliases, ","))
	if err != nil {
		return false, err
	}
	var res map[string]struct {
		Mappings map[string]json.RawMessage `json:"mappings"`
	}
	if err := decode(b, &res); err != nil {
		return false, err
	}
	for _, ix := range res {
		if _, ok := ix.Mappings[Field]; !ok {
			return true, nil
		}
	}
	return false, nil
}
