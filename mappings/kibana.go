package mappings

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

//go:embed kibana-security-alerts.json
var kibanaSecurityAlertsJSON []byte

// Target says where alerts are written.
type Target string

// Alert targets.
const (
	// TargetEsrule writes to esrule's own write alias esrule-alerts-<space>,
	// which esrule installs (the default).
	TargetEsrule Target = "esrule"
	// TargetKibana writes to Kibana's Security alerts alias
	// .alerts-security.alerts-<space>, which Kibana creates: the alerts
	// appear in the Security app's Alerts table next to Elastic's own.
	TargetKibana Target = "kibana"
)

// ParseTarget accepts "esrule" (or "") and "kibana".
func ParseTarget(s string) (Target, error) {
	switch Target(s) {
	case "", TargetEsrule:
		return TargetEsrule, nil
	case TargetKibana:
		return TargetKibana, nil
	}
	return "", fmt.Errorf("alerts target %q: want esrule (esrule-alerts-<space>) or kibana (.alerts-security.alerts-<space>)", s)
}

// Alias is the write alias of a space's alerts for t.
func (t Target) Alias(space string) string {
	if t == TargetKibana {
		return KibanaAlertsAlias(space)
	}
	return AlertsAlias(space)
}

// KibanaAlertsAlias is the alias of Kibana's Security alerts of a space.
func KibanaAlertsAlias(space string) string { return ".alerts-security.alerts-" + space }

// ErrKibanaAliasMissing is the error CheckKibanaAlias wraps when Kibana has not
// created the alerts alias of the space.
var ErrKibanaAliasMissing = errors.New("the Kibana Security alerts alias does not exist")

// KibanaSecurityAlertsIndex returns the settings and mappings (JSON) of the
// index behind Kibana's Security alerts alias, as Kibana 8.19 and 9.x install
// it, for tests of TargetKibana (see internal/gen and README.md).
func KibanaSecurityAlertsIndex() []byte {
	return append([]byte(nil), kibanaSecurityAlertsJSON...)
}

// CheckKibanaAlias checks that Kibana's Security alerts alias of space exists
// and has a write index. esrule never creates it: Kibana does, with its own
// mappings, ILM policy and index names, when the Security app's detection
// engine first runs in the space.
func CheckKibanaAlias(ctx context.Context, c esapi.Transport, space string) error {
	if err := ValidateSpace(space); err != nil {
		return err
	}
	alias := KibanaAlertsAlias(space)
	r, err := do(ctx, c, esapi.IndicesGetAliasRequest{Name: []string{alias}, ExpandWildcards: "all"})
	if err != nil {
		return fmt.Errorf("check Kibana's alerts alias %s: %w", alias, err)
	}
	if isNotFound(r) {
		return fmt.Errorf("%w: %s; Kibana creates it when the Security app's detection engine starts in space %q "+
			"(open Security > Alerts in that space once, or enable a detection rule), then retry; "+
			"or write to esrule's own alias %s with --alerts-target esrule", ErrKibanaAliasMissing, alias, space, AlertsAlias(space))
	}
	if !r.ok() {
		return fmt.Errorf("check Kibana's alerts alias %s: %w", alias, r.asError())
	}
	var got map[string]struct {
		Aliases map[string]struct {
			IsWriteIndex *bool `json:"is_write_index"`
		} `json:"aliases"`
	}
	if err := decodeJSON(r.body, &got); err != nil {
		return fmt.Errorf("decode Kibana's alerts alias %s: %w", alias, err)
	}
	writable := 0
	for _, idx := range got {
		a, ok := idx.Aliases[alias]
		if ok && (a.IsWriteIndex == nil && len(got) == 1 || a.IsWriteIndex != nil && *a.IsWriteIndex) {
			writable++
		}
	}
	if writable != 1 {
		return fmt.Errorf("the Kibana alerts alias %s points to %d indices without one write index: esrule writes through the alias and needs exactly one", alias, len(got))
	}
	return nil
}

// AlertsTemplateJSON returns esrule's alerts index template (JSON) as
// embedded, with the placeholders of the space unresolved.
func AlertsTemplateJSON() []byte { return append([]byte(nil), alertsTemplateJSON...) }
