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
)

func newSetupCommand(g *globalOptions) *cobra.Command {
	var (
		space         string
		stateIndex    string
		replicas      int
		demoTemplates bool
		kibanaURL     string
		kibanaWait    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install or update the index templates, the alerts write alias and the state index",
		Long:  longHelp("setup"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mappings.ValidateSpace(space); err != nil {
				return asUsage(err)
			}
			var replicasOpt *int
			if cmd.Flags().Changed("replicas") {
				if replicas < 0 {
					return usagef("--replicas %d: want 0 or more", replicas)
				}
				replicasOpt = &replicas
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			show := func(r mappings.Result) {
				if g.dryRun {
					fmt.Fprintf(out, "%s (dry run: not written)\n", r)
					return
				}
				fmt.Fprintln(out, r)
			}
			opts := mappings.Options{Space: space, Replicas: replicasOpt, StateIndex: stateIndex, DryRun: g.dryRun, Target: g.target}
			if err := engine.Setup(cmd.Context(), c, engine.SetupOptions{Options: opts, DemoTemplates: demoTemplates}, show); err != nil {
				return err
			}
			if kibanaURL != "" {
				return importSavedObjects(cmd.Context(), g, kibanaURL, space, kibanaWait, out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&space, "space", "default", "Kibana space whose alerts indices are set up (env ESRULE_SPACE)")
	f.StringVar(&stateIndex, "state-index", mappings.StateIndex, "name of the state index (env ESRULE_STATE_INDEX)")
	f.IntVar(&replicas, "replicas", 0, "index.number_of_replicas of the indices and templates (default: the cluster's default)")
	f.BoolVar(&demoTemplates, "demo-templates", false, "also install the Okta demo template for logs-okta.system-* and filebeat-*")
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
