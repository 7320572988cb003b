package mappings

import (
	"context"
	"fmt"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Options select what Ensure installs.
type Options struct {
	// Space is the Kibana space whose alerts indices are set up ("default" if empty).
	Space string
	// Replicas is index.number_of_replicas of the indices created; nil leaves
	// the cluster default (production), tests and demos pass 0.
	Replicas *int
	// StateIndex is the name of the state index (StateIndex if empty).
	StateIndex string
	// DryRun reports what Install would change without writing anything.
	DryRun bool
	// Target is where alerts go: TargetEsrule (the default) installs esrule's
	// alerts template and alias; TargetKibana only checks that Kibana's alias
	// exists (CheckKibanaAlias), since Kibana owns it.
	Target Target
}

// resolve applies the defaults of o and validates the space.
func (o Options) resolve() (space, stateIndex string, err error) {
	space, stateIndex = o.Space, o.StateIndex
	if space == "" {
		space = "default"
	}
	if stateIndex == "" {
		stateIndex = StateIndex
	}
	return space, stateIndex, ValidateSpace(space)
}

// Change says what Ensure did (or, in a dry run, would do) to one object.
type Change string

// Changes reported by Install.
const (
	Created   Change = "created"
	Updated   Change = "updated"
	Unchanged Change = "unchanged"
)

// Result is what happened to one Elasticsearch object.
type Result struct {
	Kind   string // "index template", "index", "alias", "mapping"
	Name   string
	Change Change
}

func (r Result) String() string { return fmt.Sprintf("%s %s: %s", r.Kind, r.Name, r.Change) }

// Report lists the objects Install looked at, in order.
type Report []Result

func (r Report) String() string {
	lines := make([]string, len(r))
	for i, res := range r {
		lines[i] = res.String()
	}
	return strings.Join(lines, "\n")
}

// Ensure installs the alerts index template, the alerts write alias with its
// bootstrap index and the state index. It is idempotent: a second call changes
// nothing. Install also reports what it did.
func Ensure(ctx context.Context, c esapi.Transport, o Options) error {
	_, err := Install(ctx, c, o)
	return err
}

// Install is Ensure, reporting what was created, updated or left unchanged.
// Templates are written only when the installed one differs in meaning.
// When the alerts template changes, its mappings are also applied to the
// indices behind the alias (additive changes only; a conflicting change is an
// error that asks for a rollover to a new index).
func Install(ctx context.Context, c esapi.Transport, o Options) (Report, error) {
	space, stateIndex, err := o.resolve()
	if err != nil {
		return nil, err
	}
	in := installer{c: c, dryRun: o.DryRun}
	var report Report
	if o.Target == TargetKibana {
		if err := CheckKibanaAlias(ctx, c, space); err != nil {
			return report, err
		}
		report = append(report, Result{"alias", KibanaAlertsAlias(space) + " (Kibana's)", Unchanged})
		change, err := in.index(ctx, stateIndex, stateIndexBody(o.Replicas))
		if err != nil {
			return report, err
		}
		return append(report, Result{"index", stateIndex, change}), nil
	}

	if err := preflight(ctx, c, AlertsAlias(space)); err != nil {
		return nil, err
	}
	name := AlertsTemplate(space)
	desired := alertsTemplateBody(space, o.Replicas)
	change, previous, err := in.template(ctx, name, desired)
	if err != nil {
		return report, err
	}
	report = append(report, Result{"index template", name, change})

	alias := AlertsAlias(space)
	aliasChange, freshIndex, err := in.writeAlias(ctx, alias, AlertsBootstrapIndex(space), o.Replicas)
	if err != nil {
		return report, err
	}
	report = append(report, Result{"alias", alias, aliasChange})

	// Indices created before this template keep their old mappings; bring
	// them up to date unless the only index was just created from it.
	if change != Unchanged && !freshIndex && !sameMapping(templateMappings(desired), templateMappings(previous)) {
		if err := in.upgradeAlertsIndices(ctx, alias, desired); err != nil {
			return report, err
		}
		report = append(report, Result{"mapping", alias, Updated})
	}

	change, err = in.index(ctx, stateIndex, stateIndexBody(o.Replicas))
	if err != nil {
		return report, err
	}
	report = append(report, Result{"index", stateIndex, change})
	return report, nil
}

// Missing returns the names of the objects Install would create: the alerts
// write alias and the state index, if absent. It needs no template privileges,
// so serve and run can call it first and Install only when something is missing.
// With TargetKibana, a missing Kibana alias is an error (see CheckKibanaAlias).
func Missing(ctx context.Context, c esapi.Transport, o Options) ([]string, error) {
	space, stateIndex, err := o.resolve()
	if err != nil {
		return nil, err
	}
	var missing []string
	if o.Target == TargetKibana {
		if err := CheckKibanaAlias(ctx, c, space); err != nil {
			return nil, err
		}
	} else {
		alias := AlertsAlias(space)
		exists, err := aliasExists(ctx, c, alias)
		if err != nil {
			return nil, err
		}
		if !exists {
			missing = append(missing, alias)
		}
	}
	exists, err := indexExists(ctx, c, stateIndex)
	if err != nil {
		return nil, err
	}
	if !exists {
		missing = append(missing, stateIndex)
	}
	return missing, nil
}

// EnsureOktaDemo installs the demo/test index template for Okta System Log
// data in logs-okta.system-* and filebeat-* plain indices (no data streams).
// Its priority (120) is above the built-in logs template and below Fleet's
// and Filebeat's own templates, so a real Okta integration keeps its mapping.
func EnsureOktaDemo(ctx context.Context, c esapi.Transport, replicas *int) error {
	_, err := InstallOktaDemo(ctx, c, replicas, false)
	return err
}

// InstallOktaDemo is EnsureOktaDemo, reporting what it did (or, with dryRun,
// would do).
func InstallOktaDemo(ctx context.Context, c esapi.Transport, replicas *int, dryRun bool) (Result, error) {
	in := installer{c: c, dryRun: dryRun}
	change, _, err := in.template(ctx, OktaDemoTemplate, oktaDemoTemplateBody(replicas))
	return Result{"index template", OktaDemoTemplate, change}, err
}
