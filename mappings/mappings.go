// Package mappings installs what esrule needs in Elasticsearch before it
// writes anything: the alerts index template, write alias and bootstrap index
// of a Kibana space, the state index, and (for demos and tests) an index
// template for Okta System Log data. Templates and mappings are embedded JSON
// files; see README.md for which package writes which index.
package mappings

import (
	_ "embed"
	"fmt"
	"regexp"
)

//go:generate go run ./internal/gen

var (
	//go:embed alerts-template.json
	alertsTemplateJSON []byte
	//go:embed state-index.json
	stateIndexJSON []byte
	//go:embed okta-demo-template.json
	oktaDemoTemplateJSON []byte
)

// StateIndex is the index holding one state document per rule (docs/state.md).
const StateIndex = "esrule-state"

// OktaDemoTemplate is the name of the demo/test index template for Okta
// System Log documents in logs-okta.system-* and filebeat-* indices.
const OktaDemoTemplate = "esrule-okta-demo"

// AlertsAlias is the write alias alerts of a Kibana space go to.
func AlertsAlias(space string) string { return "esrule-alerts-" + space }

// AlertsTemplate is the name of the index template of a space's alerts indices.
func AlertsTemplate(space string) string { return AlertsAlias(space) + "-template" }

// AlertsBootstrapIndex is the first concrete alerts index of a space, created
// with the write alias; rollovers continue the -00000N sequence.
func AlertsBootstrapIndex(space string) string { return AlertsAlias(space) + "-000001" }

// alertsIndexPattern matches every concrete alerts index of a space.
func alertsIndexPattern(space string) string { return AlertsAlias(space) + "-*" }

// alertsTemplatePriority grows with the space name's length: the pattern of a
// space "a" (esrule-alerts-a-*) also matches the indices of a space "a-b", and
// Elasticsearch refuses overlapping templates of equal priority. Overlapping
// patterns always differ in length, and the longer, more specific one wins.
func alertsTemplatePriority(space string) int { return 200 + len(space) }

// spacePattern is Kibana's rule for space ids, bounded so that index names
// stay under Elasticsearch's 255-byte limit.
var spacePattern = regexp.MustCompile(`^[a-z0-9_-]{1,200}$`)

// ValidateSpace reports whether space can name alerts indices.
func ValidateSpace(space string) error {
	if !spacePattern.MatchString(space) {
		return fmt.Errorf("space %q: want 1 to 200 characters of a-z, 0-9, _ and -", space)
	}
	return validateSpaceNames(space)
}
