package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esrule/esrule/mappings"
	"github.com/esrule/esrule/notify"
)

func init() { registerCommand(newNotifyCommand) }

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
	data, err := os.ReadFile(o.actionsFile)
	if err != nil {
		return notify.Config{}, usagef("--actions: %w", err)
	}
	cfg, err := notify.ParseConfig(data, notify.Secrets{LookupEnv: os.LookupEnv, ReadFile: os.ReadFile})
	if err != nil {
		return notify.Config{}, usagef("--actions %s: %w", o.actionsFile, err)
	}
	return cfg, nil
}

// deliveryConfig is the --actions file completed with the alerts aliases of
// spaces and this process's identity and clock.
func (o *notifyFlags) deliveryConfig(spaces []string, owner string, log zerolog.Logger, now func() time.Time) (notify.Config, error) {
	cfg, err := o.loadActions()
	if err != nil || len(cfg.Actions) == 0 {
		return cfg, err
	}
	for _, space := range spaces {
		cfg.Aliases = append(cfg.Aliases, mappings.AlertsAlias(space))
	}
	cfg.Owner, cfg.Clock = owner, now
	cfg.Logger = log.With().Str("component", "notify").Logger()
	return cfg, nil
}

// startNotifications starts the delivery loop of the actions in --actions
// for the alerts aliases of spaces, its metrics registered on reg. It returns
// the Deliverer (nil without actions: Wake and Waking accept nil) and wait,
// which blocks until the loop has stopped after ctx ended. serve calls it
// once Elasticsearch is set up, and wraps its alert writers with
// d.Waking(writer) for a low latency.
func startNotifications(ctx context.Context, o notifyFlags, c *elasticsearch.Client, spaces []string, owner string,
	reg prometheus.Registerer, log zerolog.Logger, now func() time.Time,
) (d *notify.Deliverer, wait func(), err error) {
	cfg, err := o.deliveryConfig(spaces, owner, log, now)
	if err != nil || len(cfg.Actions) == 0 {
		return nil, func() {}, err
	}
	if d, err = notify.New(c, cfg); err != nil {
		return nil, func() {}, asUsage(err)
	}
	if reg != nil {
		for _, col := range notify.Collectors() {
			if err := reg.Register(col); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return nil, func() {}, fmt.Errorf("register notification metrics: %w", err)
			}
		}
	}
	names := make([]string, len(cfg.Actions))
	for i, a := range cfg.Actions {
		names[i] = a.Name
	}
	cfg.Logger.Info().Strs("actions", names).Strs("aliases", cfg.Aliases).Msg("notifications enabled")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			cfg.Logger.Error().Err(err).Msg("notifications stopped")
		}
	}()
	return d, func() { <-done }, nil
}

func newNotifyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Notification actions (webhook, Slack) for new alerts",
		Long: `Notifications are sent by esrule serve for every alert it writes, to the actions of
the --actions file (env ESRULE_ACTIONS). See esrule notify test.`,
		Args: cobra.NoArgs,
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
		Long: `test sends one sample alert (not written to Elasticsearch; its alert id starts with
"esrule-test-") to each action of the --actions file, or to those named with --action,
and prints what each destination answered. Exit 1 if any destination failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return notifyTest(cmd.Context(), g, o, only, time.Now())
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringSliceVar(&only, "action", nil, "send only to these actions (repeatable)")
	return cmd
}

func notifyTest(ctx context.Context, g *globalOptions, o notifyFlags, only []string, now time.Time) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	if o.actionsFile == "" {
		return usagef("notify test needs --actions FILE (or ESRULE_ACTIONS)")
	}
	cfg, err := o.loadActions()
	if err != nil {
		return err
	}
	selected := map[string]bool{}
	for _, name := range only {
		selected[name] = true
	}
	sample := sampleSummary(now)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	failed, sent := 0, 0
	for _, a := range cfg.Actions {
		if len(selected) > 0 && !selected[a.Name] {
			continue
		}
		delete(selected, a.Name)
		sent++
		if err := notify.Send(ctx, client, a, sample, now); err != nil {
			failed++
			fmt.Fprintf(g.stdout, "%s (%s): %v\n", a.Name, a.Type, err)
			log.Debug().Str("action", a.Name).Err(err).Msg("test notification failed")
			continue
		}
		fmt.Fprintf(g.stdout, "%s (%s): sent\n", a.Name, a.Type)
	}
	for name := range selected {
		return usagef("--action %s: no such action in %s", name, o.actionsFile)
	}
	if sent == 0 {
		return usagef("%s defines no action", o.actionsFile)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d test notifications failed", failed, sent)
	}
	return nil
}

// sampleSummary is the alert notify test sends.
func sampleSummary(now time.Time) notify.Summary {
	now = now.UTC()
	return notify.Summary{
		AlertID:   "esrule-test-" + now.Format("20060102T150405Z"),
		Index:     mappings.AlertsAlias("default"),
		RuleName:  "esrule test notification",
		RuleID:    "esrule-test",
		Severity:  "low",
		RiskScore: 21,
		NewTerms:  []string{"test-user@example.com"},
		Actor:     notify.Actor{ID: "00u-test", AlternateID: "test-user@example.com", DisplayName: "Test User", Type: "User"},
		SourceIP:  "192.0.2.1",
		Time:      now,
		CreatedAt: now,
		Reason:    "This is a test notification from esrule notify test; no alert was written.",
	}
}

// deliverOnce runs one delivery round of the actions in --actions (nothing
// without them): esrule run calls it after its tick, so that a CronJob
// notifies too; what it cannot deliver now, the next run does.
func deliverOnce(ctx context.Context, o notifyFlags, c *elasticsearch.Client, spaces []string, owner string,
	log zerolog.Logger, now func() time.Time,
) error {
	cfg, err := o.deliveryConfig(spaces, owner, log, now)
	if err != nil || len(cfg.Actions) == 0 {
		return err
	}
	d, err := notify.New(c, cfg)
	if err != nil {
		return asUsage(err)
	}
	if err := d.RunOnce(ctx); err != nil {
		return fmt.Errorf("deliver notifications: %w", err)
	}
	return nil
}
