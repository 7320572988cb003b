package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/engine"
	"github.com/esrule/esrule/kibana"
	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/output"
)

func newSetupCommand(g *globalOptions) *cobra.Command {
	var (
		o          engine.SetupOptions
		replicas   int
		kibanaURL  string
		kibanaWait time.Duration
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install or update the index templates, the alerts write alias and the state index",
		Long:  longHelp("setup"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mappings.ValidateSpace(o.Space); err != nil {
				return asUsage(err)
			}
			if cmd.Flags().Changed("replicas") {
				if replicas < 0 {
					return usagef("--replicas %d: want 0 or more", replicas)
				}
				o.Replicas = &replicas
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			o.DryRun, o.Target = g.dryRun, g.target
			if err := engine.Setup(cmd.Context(), c, o, output.SetupResult(out, g.dryRun)); err != nil {
				return err
			}
			if kibanaURL != "" {
				return importSavedObjects(cmd.Context(), g, kibanaURL, o.Space, kibanaWait, out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Space, "space", "default", "Kibana space whose alerts indices are set up (env ESRULE_SPACE)")
	f.StringVar(&o.StateIndex, "state-index", mappings.StateIndex, "name of the state index (env ESRULE_STATE_INDEX)")
	f.IntVar(&replicas, "replicas", 0, "index.number_of_replicas of the indices and templates (default: the cluster's default)")
	f.BoolVar(&o.DemoTemplates, "demo-templates", false, "also install the Okta demo template for logs-okta.system-* and filebeat-*")
	f.StringVar(&kibanaURL, "kibana-url", "", "also import the alerts data view, saved search and dashboard into this Kibana (its base URL) in space --space")
	f.DurationVar(&kibanaWait, "kibana-wait", 2*time.Minute, "how long to wait for a starting Kibana (503, connection refused) before giving up")
	return cmd
}

// importSavedObjects imports esrule's saved objects into the Kibana at
// kibanaURL, space space, waiting up to wait for a starting Kibana.
func importSavedObjects(ctx context.Context, g *globalOptions, kibanaURL, space string, wait time.Duration, out io.Writer) error {
	es, settingsErr := g.es.Settings()
	kc, err := kibana.NewClient(kibanaURL, es)
	if err := cmp.Or(err, settingsErr); err != nil {
		return asUsage(err)
	}
	line, err := kc.ImportAll(ctx, space, wait, g.dryRun)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, line)
	return err
}
