package engine

import (
	"context"
	"fmt"

	"github.com/esrule/esrule/notify"
)

// Notifications are the notification actions of a process: the actions file
// and this replica's identity in delivery claims.
type Notifications struct {
	// Config is the parsed actions file (notify.ParseConfig). No actions: no
	// notifications.
	Config notify.Config
	// Owner identifies this replica in delivery claims.
	Owner string
}

// newDeliverer builds the deliverer of n for the alerts aliases of spaces, or
// nil without actions.
func (e *Engine) newDeliverer(n Notifications, spaces []string) (*notify.Deliverer, error) {
	cfg := n.Config
	if len(cfg.Actions) == 0 {
		return nil, nil
	}
	cfg.Aliases = nil
	for _, space := range spaces {
		cfg.Aliases = append(cfg.Aliases, e.cfg.AlertsAlias(space))
	}
	cfg.Owner, cfg.Clock = n.Owner, e.cfg.Clock
	cfg.Logger = e.cfg.Logger.With().Str("component", "notify").Logger()
	if e.cfg.Metrics != nil {
		cfg.Metrics = e.cfg.Metrics.Notify()
	}
	d, err := notify.New(e.client, cfg)
	if err != nil {
		return nil, fmt.Errorf("configure notifications: %w", err)
	}
	return d, nil
}

// StartNotifications starts the delivery loop of n for the alerts of spaces
// (nothing without actions) and makes every executor wake it with the ids it
// just created, for a low latency. wait blocks until the loop has stopped
// after ctx ended.
func (e *Engine) StartNotifications(ctx context.Context, n Notifications, spaces []string) (wait func(), err error) {
	d, err := e.newDeliverer(n, spaces)
	if err != nil || d == nil {
		return func() {}, err
	}
	e.mu.Lock()
	e.deliverer = d
	for _, ex := range e.executors {
		ex.Alerts = d.Waking(ex.Alerts)
	}
	e.mu.Unlock()
	names := make([]string, len(n.Config.Actions))
	for i, a := range n.Config.Actions {
		names[i] = a.Name
	}
	e.cfg.Logger.Info().Strs("actions", names).Strs("spaces", spaces).Msg("notifications enabled")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			e.cfg.Logger.Error().Err(err).Msg("notifications stopped")
		}
	}()
	return func() { <-done }, nil
}

// DeliverOnce runs one delivery round of n for the alerts of spaces (nothing
// without actions): esrule run calls it after its tick, so that a CronJob
// notifies too; what it cannot deliver now, the next run does.
func (e *Engine) DeliverOnce(ctx context.Context, n Notifications, spaces []string) error {
	d, err := e.newDeliverer(n, spaces)
	if err != nil || d == nil {
		return err
	}
	if err := d.RunOnce(ctx); err != nil {
		return fmt.Errorf("deliver notifications: %w", err)
	}
	return nil
}
