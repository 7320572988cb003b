package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/esrule/esrule/mappings"
)

func newSetupCommand(g *globalOptions) *cobra.Command {
	var (
		space         string
		stateIndex    string
		replicas      int
		demoTemplates bool
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install or update the index templates, the alerts write alias and the state index",
		Long: `setup installs what esrule writes to: the alerts index template and write alias
(esrule-alerts-<space>) with its first index, and the state index (esrule-state).
It is idempotent: objects that are already up to date are left unchanged.
With --dry-run it only reports what it would create or update.
With --demo-templates it also installs the Okta demo template (esrule-okta-demo)
for logs-okta.system-* and filebeat-* indices.`,
		Args: cobra.NoArgs,
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
			c, err := g.es.client()
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
			opts := mappings.Options{Space: space, Replicas: replicasOpt, StateIndex: stateIndex, DryRun: g.dryRun}
			report, err := mappings.Install(cmd.Context(), c, opts)
			for _, r := range report {
				show(r)
			}
			if err != nil {
				return fmt.Errorf("set up Elasticsearch: %w", err)
			}
			if demoTemplates {
				r, err := mappings.InstallOktaDemo(cmd.Context(), c, replicasOpt, g.dryRun)
				if err != nil {
					return fmt.Errorf("install the Okta demo template: %w", err)
				}
				show(r)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&space, "space", "default", "Kibana space whose alerts indices are set up (env ESRULE_SPACE)")
	f.StringVar(&stateIndex, "state-index", mappings.StateIndex, "name of the state index (env ESRULE_STATE_INDEX)")
	f.IntVar(&replicas, "replicas", 0, "index.number_of_replicas of the indices and templates (default: the cluster's default)")
	f.BoolVar(&demoTemplates, "demo-templates", false, "also install the Okta demo template for logs-okta.system-* and filebeat-*")
	return cmd
}
