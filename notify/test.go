package notify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// TestResult is what one action's destination answered to a test
// notification: Err is nil when it accepted the message.
type TestResult struct {
	Action, Type string
	Err          error
}

// SendTest sends SampleSummary(now) to every action of cfg, or to those named
// in only, and returns one result per action tried. An unknown name in only,
// or no action at all, is an error before anything is sent.
func SendTest(ctx context.Context, cfg Config, only []string, now time.Time) ([]TestResult, error) {
	for _, name := range only {
		if !slices.ContainsFunc(cfg.Actions, func(a Action) bool { return a.Name == name }) {
			return nil, fmt.Errorf("--action %s: no such action", name)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sample := SampleSummary(now)
	var results []TestResult
	for _, a := range cfg.Actions {
		if len(only) > 0 && !slices.Contains(only, a.Name) {
			continue
		}
		results = append(results, TestResult{Action: a.Name, Type: a.Type, Err: Send(ctx, client, a, sample, now)})
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no action defined")
	}
	return results, nil
}

// SampleSummary is the alert a test notification describes; its id starts
// with "esrule-test-" and it is written nowhere.
func SampleSummary(now time.Time) Summary {
	now = now.UTC()
	return Summary{
		AlertID:   "esrule-test-" + now.Format("20060102T150405Z"),
		Index:     "esrule-alerts-default",
		Space:     "default",
		RuleName:  "esrule test notification",
		RuleID:    "esrule-test",
		Severity:  "low",
		RiskScore: 21,
		NewTerms:  []string{"test-user@example.com"},
		Actor:     Actor{ID: "00u-test", AlternateID: "test-user@example.com", DisplayName: "Test User", Type: "User"},
		SourceIP:  "192.0.2.1",
		Time:      now,
		CreatedAt: now,
		Reason:    "This is a test notification from esrule notify test; no alert was written.",
	}
}

// String is the line esrule notify test prints for r: the action, its type
// and "sent" or the error.
func (r TestResult) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s (%s): %v", r.Action, r.Type, r.Err)
	}
	return fmt.Sprintf("%s (%s): sent", r.Action, r.Type)
}
