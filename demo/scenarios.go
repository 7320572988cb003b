package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scenario is a story placed in the data, with the alerts the built-in rule
// (docs/commands.md) must raise for it when every 5-minute slot of the period runs.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// ActorID is the okta.actor.id the scenario is about.
	ActorID string `json:"actor_id"`
	// ExpectedAlerts lists the alerts for ActorID, oldest first; empty when the
	// scenario must not alert.
	ExpectedAlerts []ExpectedAlert `json:"expected_alerts"`
}

// ExpectedAlert is one alert of the built-in rule.
type ExpectedAlert struct {
	// ActorID is the new term (okta.actor.id).
	ActorID string `json:"actor_id"`
	// Time is the event.ingested of the alert's source document: the actor's
	// first matching event after at least 7 days without one.
	Time time.Time `json:"time"`
	// Index and DocID identify the source document. When several matching
	// documents share Time, Kibana may pick any of them; this is the one with
	// the earliest @timestamp, then the smallest _id.
	Index string `json:"index"`
	DocID string `json:"doc_id"`
	// Slot is the execution (window end, a multiple of 5 minutes) that raises
	// the alert: the first slot whose window [slot-6m, slot] holds Time.
	Slot time.Time `json:"slot"`
}

// firstSlot returns the first 5-minute slot whose window holds t.
func firstSlot(t time.Time) time.Time {
	s := t.Truncate(ruleInterval)
	if s.Before(t) {
		s = s.Add(ruleInterval)
	}
	return s
}

// scenarioRun is a built scenario with its events.
type scenarioRun struct {
	Scenario
	events []*event
}

// Scenarios returns the scenarios placed in the data (none unless
// Config.Scenarios is set).
func (g *Generator) Scenarios() []Scenario {
	out := make([]Scenario, 0, len(g.scenarios))
	for _, s := range g.scenarios {
		out = append(out, s.Scenario)
	}
	return out
}

// scenarioSpec writes one scenario's events into b and names its actor.
type scenarioSpec struct {
	name, description string
	minDays           int
	build             func(g *Generator, b *builder, p *person) actor
}

var scenarioSpecs = []scenarioSpec{
	{
		name: "helpdesk-reset-anonymizer",
		description: "A service desk admin resets all MFA factors of a user (social engineering, Okta's 2023 cross-tenant " +
			"impersonation advisory); 10 minutes later the user logs in through an anonymizing proxy from a new IP, ASN and " +
			"device: a wrong password first, then success, MFA enrolment, the Admin Console, a privilege grant, a sign-on " +
			"policy change and a new IdP. The user had only direct logins before. One alert, on the failed proxied login.",
		build: func(g *Generator, b *builder, p *person) actor {
			t0 := g.cfg.End.Add(-20*time.Hour + jitter(b.r, 0, 30*time.Minute))
			b.directBaseline(p, t0)
			admin := g.staff()[0]
			e := b.add(t0, "user.mfa.factor.reset_all", admin.actor, admin.office, &admin.desktop, 0)
			e.targets = []target{p.asTarget()}
			e.requestURI = "/api/v1/users/" + p.actor.id + "/lifecycle/reset_factors"
			e.url = e.requestURI + "?"
			anon := &anonymizers[0]
			sid, t := b.login(p, t0.Add(10*time.Minute), anon, &attackerAgent,
				loginOptions{failFirst: true, newDevice: true, adminConsole: true, apps: 2, dtHash: hexString(b.r, 64)})
			follow := []struct {
				after time.Duration
				typ   string
				tgt   target
			}{
				{1 * time.Minute, "user.mfa.factor.activate", p.asTarget()},
				{6 * time.Minute, "user.account.privilege.grant", target{id: oktaID(b.r, "00u"), typ: "User", alternateID: "svc-backup@acme.example", displayName: "Backup Service"}},
				{11 * time.Minute, "policy.rule.update", target{id: g.cat.ruleID, typ: "PolicyRule", alternateID: "unknown", displayName: "Catch-all Rule"}},
				{16 * time.Minute, "system.idp.lifecycle.create", target{id: oktaID(b.r, "0oa"), typ: "IdentityProvider", alternateID: "unknown", displayName: "Partner SSO"}},
			}
			for _, f := range follow {
				e := b.add(t.Add(f.after), f.typ, p.actor, anon, &attackerAgent, 0)
				e.sessionID = sid
				e.targets = []target{f.tgt}
			}
			return p.actor
		},
	},
	{
		name: "first-proxy-after-direct",
		description: "A user who logged in directly (home, office, phone) every day of the period logs in once through a " +
			"commercial VPN, 30 hours before the end. One alert, on that session start.",
		build: func(g *Generator, b *builder, p *person) actor {
			b.directBaseline(p, g.cfg.End)
			b.login(p, g.cfg.End.Add(-30*time.Hour+jitter(b.r, 0, time.Hour)), &vpnProviders[1], &p.desktop, loginOptions{dtHash: p.dtHash})
			return p.actor
		},
	},
	{
		name: "always-vpn-control",
		description: "A user whose every login, every day, goes through a commercial VPN (is_proxy true). The first " +
			"proxied event of the period is a first occurrence (no history before the data starts); after that the " +
			"user always has history within 7 days and never alerts again.",
		build: func(g *Generator, b *builder, p *person) actor {
			first := p.localDayStart(g.start)
			for d := 0; first.AddDate(0, 0, d).Before(g.cfg.End); d++ {
				day := first.AddDate(0, 0, d)
				b.login(p, day.Add(jitter(b.r, 8*time.Hour, 11*time.Hour)), &vpnProviders[2], &p.desktop, loginOptions{dtHash: p.dtHash})
				if isWorkday(day) {
					b.login(p, day.Add(jitter(b.r, 13*time.Hour, 17*time.Hour)), &vpnProviders[2], &p.desktop, loginOptions{dtHash: p.dtHash, logout: true})
				}
			}
			return p.actor
		},
	},
	{
		name: "okta-system-actor-proxied",
		description: "The okta… system principal (Okta Workflows) starts a session and verifies through a proxy. " +
			"The rule excludes okta.actor.id:okta*, so no alert.",
		build: func(g *Generator, b *builder, p *person) actor {
			sys := *p
			sys.actor = g.cat.oktaActor
			b.login(&sys, g.cfg.End.Add(-10*time.Hour+jitter(b.r, 0, time.Hour)), &vpnProviders[0], &attackerAgent, loginOptions{apps: 1})
			return sys.actor
		},
	},
	{
		name: "late-arriving-proxied-login",
		description: "A direct user's first proxied login, published 15 hours before the end but delivered by Okta " +
			"52 minutes late. The rule's time field is event.ingested, so the alert comes from the slot that covers " +
			"the arrival, not the publication. One alert.",
		build: func(g *Generator, b *builder, p *person) actor {
			b.directBaseline(p, g.cfg.End)
			b.login(p, g.cfg.End.Add(-15*time.Hour+jitter(b.r, 0, time.Hour)), &vpnProviders[0], &p.desktop,
				loginOptions{dtHash: p.dtHash, extraDelay: 52 * time.Minute})
			return p.actor
		},
	},
	{
		name: "vpn-gap-over-7-days",
		description: "A user logs in through a VPN in the first hours of the period, then only directly, then through " +
			"the VPN again 7 days and 2 hours later. The first proxied login has left the 7-day history window: " +
			"two alerts.",
		minDays: 8,
		build: func(g *Generator, b *builder, p *person) actor {
			b.directBaseline(p, g.cfg.End)
			t1 := g.start.Add(time.Hour + jitter(b.r, 0, 30*time.Minute))
			b.login(p, t1, &vpnProviders[1], &p.desktop, loginOptions{dtHash: p.dtHash, apps: 1})
			b.login(p, t1.Add(7*24*time.Hour+2*time.Hour), &vpnProviders[1], &p.desktop, loginOptions{dtHash: p.dtHash, apps: 1})
			return p.actor
		},
	},
	{
		name: "proxied-failures-only",
		description: "Password spraying against one user through a Tor exit: only failed session starts " +
			"(INVALID_CREDENTIALS). The rule does not filter on outcome: one alert, on the first failure.",
		build: func(g *Generator, b *builder, p *person) actor {
			b.directBaseline(p, g.cfg.End)
			b.login(p, g.cfg.End.Add(-5*time.Hour+jitter(b.r, 0, time.Hour)), &anonymizers[1], &attackerAgent,
				loginOptions{failOnly: true, newDevice: true})
			return p.actor
		},
	},
	{
		name: "proxied-other-event-types",
		description: "A direct user's session start and MFA verify are direct, but a sign-on policy evaluation, an " +
			"SSO, an auth_via_mfa and a logout come through a VPN. None of these event types is in the rule's " +
			"query: no alert (the 2026 rule revision, which adds sso and auth_via_mfa, would alert).",
		build: func(g *Generator, b *builder, p *person) actor {
			b.directBaseline(p, g.cfg.End)
			t := g.cfg.End.Add(-40*time.Hour + jitter(b.r, 0, time.Hour))
			vpn := &vpnProviders[2]
			for i, typ := range []string{"policy.evaluate_sign_on", "user.authentication.sso", "user.authentication.auth_via_mfa", "user.session.end"} {
				e := b.add(t.Add(time.Duration(i)*time.Minute), typ, p.actor, vpn, &p.desktop, 0)
				e.sessionID = sessionID(b.r)
				if typ == "policy.evaluate_sign_on" {
					e.result, e.reason = "ALLOW", "Sign-on policy evaluation resulted in ALLOW"
					e.targets = g.cat.policyTargets()
				}
				if typ == "user.authentication.auth_via_mfa" {
					e.authProvider, e.factor = "FACTOR_PROVIDER", "OKTA_VERIFY_PUSH"
				}
			}
			return p.actor
		},
	},
}

// directBaseline writes p's ordinary direct logins for every day of the
// period before until.
func (b *builder) directBaseline(p *person, until time.Time) {
	p.class, p.vpnDays = classDirect, nil
	n := len(b.events)
	b.personDays(p)
	kept := b.events[:n]
	for _, e := range b.events[n:] {
		if e.published.Before(until) {
			kept = append(kept, e)
		}
	}
	b.events = kept
}

func (g *Generator) buildScenarios() ([]*scenarioRun, error) {
	var runs []*scenarioRun
	for k, spec := range scenarioSpecs {
		if g.cfg.Days < spec.minDays {
			continue
		}
		p := newPerson(g.cfg.Seed, streamScenario, k, g.cat, g.cfg.Days)
		b := &builder{g: g, r: newRand(g.cfg.Seed, streamScenario, uint64(1000+k))}
		a := spec.build(g, b, p)
		run := &scenarioRun{Scenario: Scenario{Name: spec.name, Description: spec.description, ActorID: a.id}}
		for _, e := range b.events {
			if g.inPeriod(e) {
				run.events = append(run.events, e)
			}
		}
		run.ExpectedAlerts = g.placedAlerts(a.id, run.events)
		runs = append(runs, run)
	}
	if err := g.checkScenarios(runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// placedAlerts derives a scenario's alerts from the events it placed: the
// actor's matching events in arrival order; one alerts when it is the first,
// or when the previous one arrived more than 7 days (plus the 6-minute
// look-back) earlier. Scenarios keep their gaps far from that boundary, so
// slot alignment cannot change the outcome; Oracle checks it slot by slot.
func (g *Generator) placedAlerts(actorID string, events []*event) []ExpectedAlert {
	var matching []*event
	for _, e := range events {
		if e.actor != nil && e.actor.id == actorID && e.matchesBuiltinRule() {
			matching = append(matching, e)
		}
	}
	slices.SortFunc(matching, func(a, b *event) int {
		if c := a.ingested.Compare(b.ingested); c != 0 {
			return c
		}
		if c := a.published.Compare(b.published); c != 0 {
			return c
		}
		return strings.Compare(a.uuid, b.uuid)
	})
	out := []ExpectedAlert{} // [] rather than null in JSON
	var last time.Time
	for i, e := range matching {
		if i == 0 || e.ingested.Sub(last) > 7*24*time.Hour+6*time.Minute {
			out = append(out, ExpectedAlert{ActorID: actorID, Time: e.ingested, Index: g.index(e.published), DocID: e.uuid, Slot: firstSlot(e.ingested)})
		}
		last = e.ingested
	}
	return out
}

// matchesBuiltinRule is the built-in rule's query on an unrendered event.
func (e *event) matchesBuiltinRule() bool {
	return (e.eventType == "user.session.start" || e.eventType == "user.authentication.verify") &&
		e.net != nil && e.net.proxy == proxyTrue &&
		e.actor != nil && !strings.HasPrefix(e.actor.id, "okta")
}

// checkScenarios makes sure every scenario that must alert still does within
// the period (a too-short period can push its events out).
func (g *Generator) checkScenarios(runs []*scenarioRun) error {
	want := map[string]int{
		"helpdesk-reset-anonymizer": 1, "first-proxy-after-direct": 1, "always-vpn-control": 1,
		"okta-system-actor-proxied": 0, "late-arriving-proxied-login": 1, "vpn-gap-over-7-days": 2,
		"proxied-failures-only": 1, "proxied-other-event-types": 0,
	}
	for _, r := range runs {
		if got := len(r.ExpectedAlerts); got != want[r.Name] {
			return fmt.Errorf("build scenario %s: %d alerts placed, want %d (period too short?)", r.Name, got, want[r.Name])
		}
	}
	return nil
}

// sortAlerts orders alerts by slot, then actor id.
func sortAlerts(as []ExpectedAlert) {
	slices.SortFunc(as, func(a, b ExpectedAlert) int {
		if c := a.Slot.Compare(b.Slot); c != 0 {
			return c
		}
		return strings.Compare(a.ActorID, b.ActorID)
	})
}
