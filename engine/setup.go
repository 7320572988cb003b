package engine

import (
	"context"
	"fmt"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/notify"
)

// SetupOptions are the options of Setup.
type SetupOptions struct {
	// Options say what mappings.Install installs (space, replicas, state
	// index, target, dry run).
	mappings.Options
	// DemoTemplates also installs the Okta demo template.
	DemoTemplates bool
}

// Setup is esrule setup: it installs or updates the alerts template, write
// alias and state index (mappings.Install); with Kibana's alerts target it
// adds the notification state mapping (esrule.notify) to Kibana's alerts
// indices and checks that every one of them has it; with DemoTemplates it
// installs the Okta demo template. show receives every object's outcome.
func Setup(ctx context.Context, t esapi.Transport, o SetupOptions, show func(mappings.Result)) error {
	report, err := mappings.Install(ctx, t, o.Options)
	for _, r := range report {
		show(r)
	}
	if err != nil {
		return fmt.Errorf("set up Elasticsearch: %w", err)
	}
	if o.Target == mappings.TargetKibana && !o.DryRun {
		// Delivery state of notifications (esrule.notify) must be mapped
		// in Kibana's alerts indices too; serve adds it as well.
		alias := o.Target.Alias(o.Space)
		if err := notify.EnsureMapping(ctx, t, []string{alias}); err != nil {
			return fmt.Errorf("set up Elasticsearch: %w", err)
		}
		missing, err := notify.IndicesWithoutMapping(ctx, t, alias)
		if err != nil {
			return fmt.Errorf("set up Elasticsearch: %w", err)
		}
		if len(missing) > 0 {
			return fmt.Errorf("set up Elasticsearch: the esrule.notify mapping could not be added to %v behind %s: "+
				"the credentials need the index privilege indices:admin/mapping/put (deploy/roles/esrule-setup-kibana.json)", missing, alias)
		}
		show(mappings.Result{Kind: "mapping", Name: alias + " (esrule.notify)", Change: mappings.Change("present")})
	}
	if o.DemoTemplates {
		r, err := mappings.InstallOktaDemo(ctx, t, o.Replicas, o.DryRun)
		if err != nil {
			return fmt.Errorf("install the Okta demo template: %w", err)
		}
		show(r)
	}
	return nil
}
