package mappings

import (
	"context"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// installer creates and updates objects; with dryRun it only finds out what
// it would do.
type installer struct {
	c      esapi.Transport
	dryRun bool
}

// template writes a composable index template unless the installed one means
// the same. It returns the template installed before (nil if none).
func (in installer) template(ctx context.Context, name string, desired map[string]any) (Change, map[string]any, error) {
	previous, err := getTemplate(ctx, in.c, name)
	if err != nil {
		return "", nil, err
	}
	change := Created
	if previous != nil {
		if sameTemplate(desired, previous) {
			return Unchanged, previous, nil
		}
		change = Updated
	}
	if in.dryRun {
		return change, previous, nil
	}
	_, err = expectOK(ctx, in.c, esapi.IndicesPutIndexTemplateRequest{Name: name, Body: jsonBody(desired)})
	if err != nil {
		return "", nil, fmt.Errorf("put index template %s: %w", name, err)
	}
	return change, previous, nil
}

// writeAlias creates the bootstrap index with the write alias unless the
// alias exists; freshIndex says the index was created now. Two setups racing
// are fine: the loser sees the index exist. An index left without its alias
// gets the alias back.
func (in installer) writeAlias(ctx context.Context, alias, bootstrap string, replicas *int) (change Change, freshIndex bool, err error) {
	exists, err := aliasExists(ctx, in.c, alias)
	if err != nil || exists {
		return Unchanged, false, err
	}
	if in.dryRun {
		exists, err := indexExists(ctx, in.c, bootstrap)
		return Created, !exists, err
	}
	body := map[string]any{"aliases": map[string]any{alias: map[string]any{"is_write_index": true}}}
	setReplicas(body, replicas)
	r, err := do(ctx, in.c, esapi.IndicesCreateRequest{Index: bootstrap, Body: jsonBody(body)})
	if err != nil {
		return "", false, fmt.Errorf("create alerts index %s: %w", bootstrap, err)
	}
	switch {
	case r.ok():
		return Created, true, nil
	case !isAlreadyExists(r):
		return "", false, fmt.Errorf("create alerts index %s with write alias %s: %w", bootstrap, alias, r.asError())
	}
	if exists, err := aliasExists(ctx, in.c, alias); err != nil || exists {
		return Unchanged, false, err
	}
	actions := map[string]any{"actions": []any{map[string]any{"add": map[string]any{
		"index": bootstrap, "alias": alias, "is_write_index": true,
	}}}}
	if _, err := expectOK(ctx, in.c, esapi.IndicesUpdateAliasesRequest{Body: jsonBody(actions)}); err != nil {
		return "", false, fmt.Errorf("add write alias %s to %s: %w", alias, bootstrap, err)
	}
	return Created, false, nil
}

// upgradeAlertsIndices applies the alerts template's field limit and mappings
// to the indices behind alias.
func (in installer) upgradeAlertsIndices(ctx context.Context, alias string, template map[string]any) error {
	if in.dryRun {
		return nil
	}
	limit := map[string]any{"index.mapping.total_fields.limit": totalFieldsLimit(template)}
	if _, err := expectOK(ctx, in.c, esapi.IndicesPutSettingsRequest{Index: []string{alias}, Body: jsonBody(limit)}); err != nil {
		return fmt.Errorf("raise the field limit of the indices of %s: %w", alias, err)
	}
	if err := putMapping(ctx, in.c, alias, templateMappings(template)); err != nil {
		return fmt.Errorf("apply the updated alerts mappings to the indices of %s (roll the alias over to a new index if they conflict): %w", alias, err)
	}
	return nil
}

// index creates an index, or brings the mapping of an existing one up to
// date (additive changes only).
func (in installer) index(ctx context.Context, index string, body map[string]any) (Change, error) {
	if in.dryRun {
		exists, err := indexExists(ctx, in.c, index)
		if err != nil || !exists {
			return Created, err
		}
	} else {
		r, err := do(ctx, in.c, esapi.IndicesCreateRequest{Index: index, Body: jsonBody(body)})
		if err != nil {
			return "", fmt.Errorf("create index %s: %w", index, err)
		}
		switch {
		case r.ok():
			return Created, nil
		case !isAlreadyExists(r):
			return "", fmt.Errorf("create index %s: %w", index, r.asError())
		}
	}
	desired := body["mappings"].(map[string]any)
	installed, err := getMapping(ctx, in.c, index)
	if err != nil {
		return "", err
	}
	if sameMapping(desired, installed) {
		return Unchanged, nil
	}
	if in.dryRun {
		return Updated, nil
	}
	if err := putMapping(ctx, in.c, index, desired); err != nil {
		return "", fmt.Errorf("update mapping of index %s: %w", index, err)
	}
	return Updated, nil
}

// getTemplate returns an installed composable index template, nil if none.
func getTemplate(ctx context.Context, c esapi.Transport, name string) (map[string]any, error) {
	r, err := do(ctx, c, esapi.IndicesGetIndexTemplateRequest{Name: name})
	if err != nil {
		return nil, fmt.Errorf("get index template %s: %w", name, err)
	}
	if isNotFound(r) {
		return nil, nil
	}
	if !r.ok() {
		return nil, fmt.Errorf("get index template %s: %w", name, r.asError())
	}
	var got struct {
		IndexTemplates []struct {
			Name          string         `json:"name"`
			IndexTemplate map[string]any `json:"index_template"`
		} `json:"index_templates"`
	}
	if err := decodeJSON(r.body, &got); err != nil {
		return nil, fmt.Errorf("decode index template %s: %w", name, err)
	}
	for _, t := range got.IndexTemplates {
		if t.Name == name {
			return t.IndexTemplate, nil
		}
	}
	return nil, nil
}

// templateMappings returns the mappings of an index template (nil if none).
func templateMappings(t map[string]any) map[string]any {
	tmpl, _ := t["template"].(map[string]any)
	m, _ := tmpl["mappings"].(map[string]any)
	return m
}

// totalFieldsLimit is index.mapping.total_fields.limit of an index template.
func totalFieldsLimit(t map[string]any) any {
	tmpl, _ := t["template"].(map[string]any)
	settings, _ := tmpl["settings"].(map[string]any)
	return flattenSettings(settings)["index.mapping.total_fields.limit"]
}

func aliasExists(ctx context.Context, c esapi.Transport, alias string) (bool, error) {
	r, err := do(ctx, c, esapi.IndicesExistsAliasRequest{Name: []string{alias}})
	if err != nil {
		return false, fmt.Errorf("check alias %s: %w", alias, err)
	}
	switch {
	case r.ok():
		return true, nil
	case isNotFound(r):
		return false, nil
	}
	return false, fmt.Errorf("check alias %s: %w", alias, r.asError())
}

func indexExists(ctx context.Context, c esapi.Transport, index string) (bool, error) {
	r, err := do(ctx, c, esapi.IndicesExistsRequest{Index: []string{index}})
	if err != nil {
		return false, fmt.Errorf("check index %s: %w", index, err)
	}
	switch {
	case r.ok():
		return true, nil
	case isNotFound(r):
		return false, nil
	}
	return false, fmt.Errorf("check index %s: %w", index, r.asError())
}

func getMapping(ctx context.Context, c esapi.Transport, index string) (map[string]any, error) {
	r, err := expectOK(ctx, c, esapi.IndicesGetMappingRequest{Index: []string{index}})
	if err != nil {
		return nil, fmt.Errorf("get mapping of index %s: %w", index, err)
	}
	var got map[string]struct {
		Mappings map[string]any `json:"mappings"`
	}
	if err := decodeJSON(r.body, &got); err != nil {
		return nil, fmt.Errorf("decode mapping of index %s: %w", index, err)
	}
	if m, ok := got[index]; ok {
		return m.Mappings, nil
	}
	if len(got) == 1 { // index is an alias of one index
		for _, m := range got {
			return m.Mappings, nil
		}
	}
	return nil, fmt.Errorf("get mapping of index %s: %d indices in the response", index, len(got))
}

// putMapping applies mappings to an index or to every index behind an alias.
func putMapping(ctx context.Context, c esapi.Transport, target string, mappings any) error {
	_, err := expectOK(ctx, c, esapi.IndicesPutMappingRequest{Index: []string{target}, Body: jsonBody(mappings)})
	return err
}
