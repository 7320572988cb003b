// Package notify delivers esrule's alerts to webhooks and Slack, at least
// once and, at a receiver that drops repeated Idempotency-Keys, exactly once.
//
// Delivery state lives with the alert: the flattened field esrule.notify of
// the alert document holds, per action, its status (sending, pending, sent,
// failed), attempts, last error and times, written with optimistic
// concurrency (if_seq_no/if_primary_term) through the _update API. A
// Deliverer periodically searches the alerts aliases for alerts that an
// action applies to and that it has neither sent nor given up on, claims each
// one, sends it and records the result. An alert is only ever found after it
// was created (a 409 duplicate creates nothing), and a crash between writing
// an alert and sending it only delays the message.
package notify

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"text/template"
	"time"

	"github.com/rs/zerolog"
)

// Action types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
)

// Defaults of Action and Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultSlackRate    = 1.0
	DefaultWebhookRate  = 10.0
	DefaultMaxInFlight  = 4
	DefaultInterval     = 30 * time.Second
	DefaultMaxAge       = 24 * time.Hour
	DefaultBatchSize    = 100
	DefaultClaimTimeout = 2 * time.Minute
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
)

// AllRules in Action.Rules applies an action to every rule.
const AllRules = "*"

// Action is one notification destination with its secrets already resolved.
// Only Name is ever logged.
type Action struct {
	// Name identifies the action in logs, metrics and the alert's delivery
	// state (esrule.notify.<Name>); letters, digits, '_' and '-'.
	Name string
	// Type is TypeWebhook or TypeSlack.
	Type string
	// Rules are the rule ids (id or rule_id) the action applies to; "*" (or
	// none) means every rule.
	Rules []string
	// URL receives the POST. It is a secret (tokens live in webhook URLs).
	URL string
	// Headers are added to every request (secret values allowed).
	Headers map[string]string
	// Timeout bounds one request. Defaults to DefaultTimeout.
	Timeout time.Duration
	// Rate bounds requests per second to the destination. Defaults to
	// DefaultSlackRate for Slack and DefaultWebhookRate for webhooks.
	Rate float64
	// MaxInFlight bounds concurrent requests to the destination. Defaults to
	// DefaultMaxInFlight.
	MaxInFlight int
	// LinkTemplate is a text/template executed with the alert's Summary to
	// give Summary.Link (e.g. a Kibana Discover URL); empty means no link.
	LinkTemplate string
	// MaxAttempts gives up (status failed) after that many failed attempts
	// that could have been retried; 0 retries until the alert is older than
	// Config.MaxAge.
	MaxAttempts int
}

var actionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// reservedNames are keys of esrule.notify that are not actions.
var reservedNames = []string{requestedKey}

// appliesTo reports whether a applies to the rule with the given ids.
func (a Action) appliesTo(ruleIDs ...string) bool {
	if len(a.Rules) == 0 || slices.Contains(a.Rules, AllRules) {
		return true
	}
	for _, id := range ruleIDs {
		if id != "" && slices.Contains(a.Rules, id) {
			return true
		}
	}
	return false
}

func (a Action) withDefaults() Action {
	if a.Timeout <= 0 {
		a.Timeout = DefaultTimeout
	}
	if a.Rate <= 0 {
		a.Rate = DefaultWebhookRate
		if a.Type == TypeSlack {
			a.Rate = DefaultSlackRate
		}
	}
	if a.MaxInFlight <= 0 {
		a.MaxInFlight = DefaultMaxInFlight
	}
	return a
}

// Validate lists every problem of a; messages never contain the URL or
// header values.
func (a Action) Validate() error { return a.validate(true) }

func (a Action) validate(checkURL bool) error {
	var errs []error
	if !actionName.MatchString(a.Name) || slices.Contains(reservedNames, a.Name) {
		errs = append(errs, fmt.Errorf("action %q: name must be 1-64 letters, digits, '_' or '-' (and not %q)", a.Name, requestedKey))
	}
	if a.Type != TypeWebhook && a.Type != TypeSlack {
		errs = append(errs, fmt.Errorf("action %q: type %q is neither %q nor %q", a.Name, a.Type, TypeWebhook, TypeSlack))
	}
	if checkURL && !validURL(a.URL) {
		errs = append(errs, fmt.Errorf("action %q: url must be an absolute http or https URL (value not shown)", a.Name))
	}
	for k := range a.Headers {
		if k == "" || http.CanonicalHeaderKey(k) == "Content-Type" {
			errs = append(errs, fmt.Errorf("action %q: header %q cannot be set", a.Name, k))
		}
	}
	if a.Timeout < 0 || a.Rate < 0 || a.MaxInFlight < 0 || a.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("action %q: timeout, rate, max_in_flight and max_attempts must not be negative", a.Name))
	}
	if _, err := parseLinkTemplate(a.LinkTemplate); err != nil {
		errs = append(errs, fmt.Errorf("action %q: link_template: %w", a.Name, err))
	}
	return errors.Join(errs...)
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Config configures a Deliverer.
type Config struct {
	// Actions are the destinations; names must be unique.
	Actions []Action
	// Aliases are the alerts aliases (or indices) searched for alerts to
	// deliver, e.g. mappings.AlertsAlias(space) for every space.
	Aliases []string
	// Interval is the time between searches. Defaults to DefaultInterval.
	Interval time.Duration
	// MaxAge ignores alerts written longer ago. Defaults to DefaultMaxAge.
	MaxAge time.Duration
	// BatchSize is the number of alerts (newest first) one search returns per
	// action. Defaults to DefaultBatchSize.
	BatchSize int
	// ClaimTimeout is how long a claim (status sending) keeps other
	// deliverers off an alert; after it the alert is sent again (a crash
	// after the send and before its record yields a second message with the
	// same Idempotency-Key). Defaults to DefaultClaimTimeout; it should
	// exceed the longest Action.Timeout.
	ClaimTimeout time.Duration
	// MinBackoff is the pause of a destination after a retryable failure;
	// it doubles with every further one. Defaults to DefaultMinBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the pause of a destination after retryable failures
	// (a longer Retry-After is respected). Defaults to DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Owner identifies this process in claims (e.g. hostname-pid-random).
	Owner string
	// Clock gives the current time; required.
	Clock  func() time.Time
	Logger zerolog.Logger
	// Metrics receives the delivery metrics; nil: metrics of their own,
	// registered nowhere.
	Metrics *Metrics
	// HTTPClient sends the requests; nil uses a client without redirects.
	// Action.Timeout applies per request either way.
	HTTPClient *http.Client
	// AfterSend, when set, runs after a message was accepted and before its
	// delivery is recorded; an error stops the round there as if the
	// process had died (tests simulate kill -9 with it).
	AfterSend func(action, alertID string) error
}

// Validate lists every problem of c.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, a := range c.Actions {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("action %q is defined twice", a.Name))
		}
		seen[a.Name] = true
	}
	if len(c.Aliases) == 0 && len(c.Actions) > 0 {
		errs = append(errs, errors.New("notify: no alerts alias to search"))
	}
	if c.Clock == nil {
		errs = append(errs, errors.New("notify: Clock is required"))
	}
	if c.Interval < 0 || c.MaxAge < 0 || c.BatchSize < 0 || c.ClaimTimeout < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("notify: interval, max_age, batch_size, claim_timeout, min_backoff and max_backoff must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.ClaimTimeout <= 0 {
		c.ClaimTimeout = DefaultClaimTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	actions := make([]Action, len(c.Actions))
	for i, a := range c.Actions {
		actions[i] = a.withDefaults()
	}
	c.Actions = actions
	return c
}

func parseLinkTemplate(s string) (*template.Template, error) {
	if s == "" {
		return nil, nil
	}
	return template.New("link").Funcs(template.FuncMap{
		"rfc3339":    func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"pathescape": url.PathEscape,
	}).Option("missingkey=error").Parse(s)
}
