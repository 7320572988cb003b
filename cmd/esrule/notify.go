package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/internal/inputbound"
	"github.com/esrule/esrule/notify"
)

// notifyFlags are the notification flags of serve and notify test.
type notifyFlags struct {
	actionsFile string
}

func (o *notifyFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.actionsFile, "actions", "", "TOML file of notification actions (webhook, Slack); none: no notifications")
}

// loadActions reads --actions; secrets come from the environment and files
// it names. A missing or invalid file is a usage error (exit 2).
func (o *notifyFlags) loadActions() (notify.Config, error) {
	if o.actionsFile == "" {
		return notify.Config{}, nil
	}
	data, err := inputbound.ReadTOMLFile(o.actionsFile)
	if err != nil {
		return notify.Config{}, usagef("--actions: %w", err)
	}
	cfg, err := notify.ParseConfig(data, notify.Secrets{LookupEnv: os.LookupEnv, ReadFile: os.ReadFile})
	if err != nil {
		return notify.Config{}, usagef("--actions %s: %w", o.actionsFile, err)
	}
	return cfg, nil
}

func newNotifyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Notification actions (webhook, Slack) for new alerts",
		Long:  longHelp("notify"),
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newNotifyTestCommand(g))
	return cmd
}

func newNotifyTestCommand(g *globalOptions) *cobra.Command {
	var o notifyFlags
	var only []string
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Send a sample alert to every action of the --actions file",
		Long:  longHelp("notify-test"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notifyTest(cmd.Context(), g, o, only, time.Now())
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&only, "action", nil, "send only to these actions (repeatable)")
	return cmd
}

func notifyTest(ctx context.Context, g *globalOptions, o notifyFlags, only []string, now time.Time) error {
	if o.actionsFile == "" {
		return usagef("notify test needs --actions FILE (or ESRULE_ACTIONS)")
	}
	cfg, err := o.loadActions()
	if err != nil {
		return err
	}
	results, err := notify.SendTest(ctx, cfg, only, now)
	if err != nil {
		return usagef("%s: %w", o.actionsFile, err)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(g.stdout, "%s (%s): %v\n", r.Action, r.Type, r.Err)
			g.log.Debug().Str("action", r.Action).Err(r.Err).Msg("test notification failed")
			continue
		}
		fmt.Fprintf(g.stdout, "%s (%s): sent\n", r.Action, r.Type)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d test notifications failed", failed, len(results))
	}
	return nil
}
