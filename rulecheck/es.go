package rulecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// ES is the Client of an Elasticsearch reached through transport (an
// *esclient.Client).
type ES struct {
	Transport esapi.Transport
}

// FieldCaps implements Client.
func (e ES) FieldCaps(ctx context.Context, indices, fields []string) ([]byte, error) {
	yes := true
	res, err := esclient.Call(ctx, e.Transport, esapi.FieldCapsRequest{
		Index: indices, Fields: fields,
		IncludeUnmapped: &yes, IgnoreUnavailable: &yes, AllowNoIndices: &yes,
	})
	if err != nil {
		return nil, fmt.Errorf("get field caps of %s: %w", strings.Join(indices, ","), err)
	}
	return res.Body, nil
}

// HasPrivileges implements Client with _security/user/_has_privileges.
func (e ES) HasPrivileges(ctx context.Context, patterns, privileges []string) (map[string][]string, error) {
	body, err := json.Marshal(map[string]any{"index": []any{map[string]any{"names": patterns, "privileges": privileges}}})
	if err != nil {
		return nil, fmt.Errorf("encode privileges request: %w", err)
	}
	res, err := esclient.Do(ctx, e.Transport, esapi.SecurityHasPrivilegesRequest{Body: bytes.NewReader(body)})
	if err != nil {
		return nil, fmt.Errorf("check privileges: %w", err)
	}
	if !res.OK() {
		// Without security the endpoint does not exist (400 "no handler
		// found") or says that security is disabled.
		text := string(res.Body)
		if res.Status == http.StatusBadRequest && strings.Contains(text, "no handler found") ||
			strings.Contains(text, "Security must be explicitly enabled") || strings.Contains(text, "security is disabled") {
			return nil, ErrNoSecurity
		}
		return nil, fmt.Errorf("check privileges: %w", res.Err())
	}
	var resp struct {
		Index map[string]map[string]bool `json:"index"`
	}
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		return nil, fmt.Errorf("decode privileges: %w", err)
	}
	lacking := map[string][]string{}
	for _, p := range patterns {
		for _, priv := range privileges {
			if !resp.Index[p][priv] {
				lacking[p] = append(lacking[p], priv)
			}
		}
	}
	return lacking, nil
}
