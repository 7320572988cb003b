package demo

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
)

// oracleFor feeds every document of cfg to an Oracle.
func oracleFor(t *testing.T, cfg Config) (*Generator, *Oracle) {
	t.Helper()
	g, err := New(cfg)
	require.NoError(t, err)
	o := &Oracle{}
	require.NoError(t, g.Each(o.Add))
	return g, o
}

func alertsOf(alerts []ExpectedAlert, actorID string) []ExpectedAlert {
	var out []ExpectedAlert
	for _, a := range alerts {
		if a.ActorID == actorID {
			out = append(out, a)
		}
	}
	return out
}

func TestScenariosMatchOracle(t *testing.T) {
	for _, shape := range []string{"agent", "filebeat", "lean"} {
		cfg := testConfig()
		cfg.Filebeat = shape == "filebeat"
		cfg.Lean = shape == "lean"
		g, o := oracleFor(t, cfg)
		all := o.Alerts(cfg.Start(), cfg.End)
		scenarios := g.Scenarios()
		require.Len(t, scenarios, len(scenarioSpecs))
		for _, s := range scenarios {
			t.Run(s.Name+"/"+shape, func(t *testing.T) {
				got := alertsOf(all, s.ActorID)
				if diff := cmp.Diff(s.ExpectedAlerts, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("oracle disagrees with the placed alerts (-placed +oracle):\n%s", diff)
				}
			})
		}
	}
}

func TestScenarioExpectations(t *testing.T) {
	cfg := testConfig()
	g, err := New(cfg)
	require.NoError(t, err)
	byName := map[string]Scenario{}
	for _, s := range g.Scenarios() {
		byName[s.Name] = s
		for _, a := range s.ExpectedAlerts {
			require.Equal(t, time.UTC, a.Time.Location())
			require.True(t, a.Time.After(cfg.Start()) && a.Time.Before(cfg.End), "%s: %s", s.Name, a.Time)
			require.Zero(t, a.Slot.UnixNano()%int64(5*time.Minute))
			require.False(t, a.Slot.Before(a.Time))
			require.Less(t, a.Slot.Sub(a.Time), 5*time.Minute)
		}
	}
	tests := []struct {
		name   string
		alerts int
		prefix string
	}{
		{"helpdesk-reset-anonymizer", 1, "00u"},
		{"first-proxy-after-direct", 1, "00u"},
		{"always-vpn-control", 1, "00u"},
		{"okta-system-actor-proxied", 0, "okta"},
		{"late-arriving-proxied-login", 1, "00u"},
		{"vpn-gap-over-7-days", 2, "00u"},
		{"proxied-failures-only", 1, "00u"},
		{"proxied-other-event-types", 0, "00u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := byName[tt.name]
			require.True(t, ok)
			require.Len(t, s.ExpectedAlerts, tt.alerts)
			require.Regexp(t, "^"+tt.prefix, s.ActorID)
			require.NotEmpty(t, s.Description)
		})
	}
	// The always-VPN control alerts on the first day only.
	control := byName["always-vpn-control"].ExpectedAlerts[0]
	require.Less(t, control.Time.Sub(cfg.Start()), 36*time.Hour)
	// The help-desk attack alerts after the factor reset, on day 8.
	require.Greater(t, byName["helpdesk-reset-anonymizer"].ExpectedAlerts[0].Time, cfg.End.Add(-24*time.Hour))
	// Gap scenario: more than 7 days between the alerts.
	gap := byName["vpn-gap-over-7-days"].ExpectedAlerts
	require.Greater(t, gap[1].Time.Sub(gap[0].Time), 7*24*time.Hour)
}

func TestLateArrivingScenarioUsesIngested(t *testing.T) {
	g, err := New(testConfig())
	require.NoError(t, err)
	for _, s := range g.scenarios {
		if s.Name != "late-arriving-proxied-login" {
			continue
		}
		for _, e := range s.events {
			if e.uuid == s.ExpectedAlerts[0].DocID {
				require.Greater(t, e.ingested.Sub(e.published), 50*time.Minute)
				return
			}
		}
	}
	t.Fatal("late-arriving scenario alert document not found")
}

func TestBackgroundProducesEarlyFirstOccurrences(t *testing.T) {
	cfg := testConfig()
	cfg.Users = 200
	cfg.Scenarios = false
	_, o := oracleFor(t, cfg)
	alerts := o.Alerts(cfg.Start(), cfg.End)
	require.NotEmpty(t, alerts)
	day1 := 0
	for _, a := range alerts {
		if a.Time.Before(cfg.Start().Add(24 * time.Hour)) {
			day1++
		}
	}
	require.Positive(t, day1, "always-VPN users alert on day 1")
	require.Less(t, day1, len(alerts), "occasional VPN users alert later")
	t.Logf("background: %d matching docs, %d alerts, %d on day 1", o.Matches(), len(alerts), day1)
}

func TestOracleEdgeCases(t *testing.T) {
	t0 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	doc := func(id, actor, eventType, proxy string, ingested, published time.Time) Doc {
		body := `{"@timestamp":"` + published.Format(time.RFC3339Nano) + `","event":{"dataset":"okta.system"`
		if !ingested.IsZero() {
			body += `,"ingested":"` + ingested.Format(time.RFC3339Nano) + `"`
		}
		body += `},"okta":{"event_type":"` + eventType + `","actor":{"id":"` + actor + `"},"security_context":{"is_proxy":` + proxy + `}}}`
		return Doc{Index: "logs-okta.system-test", ID: id, Body: []byte(body)}
	}
	tests := []struct {
		name string
		docs []Doc
		want []string // doc ids that alert
	}{
		{"first occurrence", []Doc{doc("a", "00u1", "user.session.start", "true", t0.Add(-time.Minute), t0.Add(-2*time.Minute))}, []string{"a"}},
		{"history within 7 days", []Doc{
			doc("old", "00u1", "user.authentication.verify", "true", t0.Add(-6*24*time.Hour), t0.Add(-6*24*time.Hour)),
			doc("new", "00u1", "user.session.start", "true", t0.Add(-time.Minute), t0.Add(-time.Minute)),
		}, []string{"old"}},
		{"history older than 7 days", []Doc{
			doc("old", "00u1", "user.session.start", "true", t0.Add(-8*24*time.Hour), t0.Add(-8*24*time.Hour)),
			doc("new", "00u1", "user.session.start", "true", t0.Add(-time.Minute), t0.Add(-time.Minute)),
		}, []string{"old", "new"}},
		{"not proxied, null, string", []Doc{
			doc("f", "00u1", "user.session.start", "false", t0, t0),
			doc("n", "00u2", "user.session.start", "null", t0, t0),
			doc("s", "00u3", "user.session.start", `"true"`, t0, t0),
		}, []string{"s"}},
		{"okta actor excluded, Okta-case kept", []Doc{
			doc("o", "oktaABC", "user.session.start", "true", t0, t0),
			doc("O", "OktaABC", "user.session.start", "true", t0, t0),
		}, []string{"O"}},
		{"wrong event type", []Doc{doc("sso", "00u1", "user.authentication.sso", "true", t0, t0)}, nil},
		{"falls back to @timestamp", []Doc{doc("fb", "00u1", "user.session.start", "true", time.Time{}, t0.Add(-3*time.Minute))}, []string{"fb"}},
		{"one alert across overlapping slots", []Doc{
			doc("x", "00u1", "user.session.start", "true", t0.Add(-30*time.Second), t0.Add(-time.Minute)),
			doc("y", "00u1", "user.session.start", "true", t0.Add(4*time.Minute), t0.Add(4*time.Minute)),
		}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Oracle{}
			for _, d := range tt.docs {
				require.NoError(t, o.Add(d))
			}
			var got []string
			for _, a := range o.Alerts(t0.Add(-10*24*time.Hour), t0.Add(time.Hour)) {
				got = append(got, a.DocID)
			}
			require.Equal(t, tt.want, got)
		})
	}
}
