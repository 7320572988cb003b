package main

import (
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
			if o.actionsFile == "" {
				return usagef("notify test needs --actions FILE (or ESRULE_ACTIONS)")
			}
			cfg, err := o.loadActions()
			if err != nil {
				return err
			}
			results, err := notify.SendTest(cmd.Context(), cfg, only, time.Now())
			if err != nil {
				return usagef("%s: %w", o.actionsFile, err)
			}
			failed := 0
			for _, r := range results {
				fmt.Fprintln(g.stdout, r)
				if r.Err != nil {
					failed++
					g.log.Debug().Str("action", r.Action).Err(r.Err).Msg("test notification failed")
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d test notifications failed", failed, len(results))
			}
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&only, "action", nil, "send only to these actions (repeatable)")
	return cmd
}
