package demo

import (
	"math/rand/v2"
	"time"
)

// builder creates the events of one random stream (a user, the system
// principals, or the scenarios) and collects them in order.
type builder struct {
	g      *Generator
	r      *rand.Rand
	events []*event
}

const pollInterval = time.Minute // the httpjson input polls /api/v1/logs every minute

// add creates an event of type typ published at t. extraDelay delays its
// delivery (Okta-side late events).
func (b *builder) add(t time.Time, typ string, a actor, n *network, ua *userAgent, extraDelay time.Duration) *event {
	e := &event{
		published:       t.UTC().Truncate(time.Millisecond),
		eventType:       typ,
		result:          "SUCCESS",
		severity:        "INFO",
		actor:           &a,
		net:             n,
		agent:           ua,
		transactionType: "WEB",
		transactionID:   requestID(b.r),
	}
	e.uuid = uuidV1(b.r, e.published)
	if n != nil {
		e.ip = n.ip(b.r)
	}
	b.deliver(e, jitter(b.r, time.Second, 8*time.Second)+extraDelay)
	e.proxyAsJSONNull = b.g.cfg.Filebeat
	b.events = append(b.events, e)
	return e
}

// deliver sets event.created and event.ingested: the event becomes available
// after lag, is fetched by the next poll (or after a collector outage), and
// the whole poll batch is ingested a moment later.
func (b *builder) deliver(e *event, lag time.Duration) {
	avail := e.published.Add(lag)
	for _, o := range b.g.cat.outages {
		if !avail.Before(o.start) && avail.Before(o.end) {
			avail = o.end
		}
	}
	phase := b.g.cat.pollPhase
	poll := avail.Add(-phase).Truncate(pollInterval).Add(phase)
	if poll.Before(avail) {
		poll = poll.Add(pollInterval)
	}
	e.created = poll.Add(jitter(b.r, 0, 250*time.Millisecond)).Truncate(time.Millisecond)
	batch := 300*time.Millisecond + time.Duration(splitmix(uint64(poll.Unix()))%2000)*time.Millisecond
	ingested := poll.Add(batch)
	if b.g.cfg.Filebeat {
		e.ingested = ingested.Truncate(time.Millisecond)
	} else if t := ingested.Truncate(time.Second); t.Equal(ingested) {
		e.ingested = t
	} else {
		e.ingested = t.Add(time.Second)
	}
}

// loginOptions varies a login sequence.
type loginOptions struct {
	failFirst    bool          // a wrong password before the successful attempt
	failOnly     bool          // only failed attempts (password spraying)
	apps         int           // SSO apps opened; 0 = random 1 to 3
	logout       bool          // ends with user.session.end
	extraDelay   time.Duration // Okta delivers the whole session late
	newDevice    bool          // risk HIGH, New IP/Device/Geo behaviours
	adminConsole bool          // opens the Okta Admin Console
	dtHash       string
}

// login writes session start → policy evaluation → MFA verify → SSO
// (→ logout) for p from n with ua, starting at t. It returns the session id
// and the time of the last event.
func (b *builder) login(p *person, t time.Time, n *network, ua *userAgent, o loginOptions) (string, time.Time) {
	r := b.r
	sid := sessionID(r)
	fp := hexString(r, 32)
	risk := func(e *event) {
		e.sessionID = sid
		e.fingerprt = fp
		e.dtHash = o.dtHash
		if o.newDevice {
			e.riskLevel = "HIGH"
			e.riskReasons = []string{"Anomalous Location", "Anomalous Device"}
			e.behaviors = []string{"New Geo-Location", "New Device", "New IP", "New Country", "New City"}
		} else {
			e.riskLevel = "LOW"
		}
	}
	attempts := 0
	if o.failFirst {
		attempts = 1
	}
	if o.failOnly {
		attempts = 2 + r.IntN(3)
	}
	for range attempts {
		e := b.add(t, "user.session.start", p.actor, n, ua, o.extraDelay)
		e.result, e.reason, e.severity = "FAILURE", "INVALID_CREDENTIALS", "WARN"
		e.authProvider, e.credentialType = "OKTA_AUTHENTICATION_PROVIDER", "PASSWORD"
		e.requestURI, e.url = "/api/v1/authn", "/api/v1/authn?"
		risk(e)
		t = t.Add(jitter(r, 15*time.Second, 70*time.Second))
	}
	if o.failOnly {
		return sid, t
	}
	e := b.add(t, "user.session.start", p.actor, n, ua, o.extraDelay)
	e.authProvider, e.credentialType = "OKTA_AUTHENTICATION_PROVIDER", "PASSWORD"
	e.requestURI, e.url = "/api/v1/authn", "/api/v1/authn?"
	risk(e)

	t = t.Add(jitter(r, 100*time.Millisecond, 900*time.Millisecond))
	e = b.add(t, "policy.evaluate_sign_on", p.actor, n, ua, o.extraDelay)
	e.result, e.reason = "ALLOW", "Sign-on policy evaluation resulted in ALLOW"
	e.requestURI, e.url = "/api/v1/authn", "/api/v1/authn?"
	e.sessionID = sid
	e.targets = b.g.cat.policyTargets()
	if chance(r, 0.01) {
		e.ip, e.net = "", nil // Okta's client.ipAddress "null"
	}

	t = t.Add(jitter(r, 4*time.Second, 30*time.Second))
	e = b.add(t, "user.authentication.verify", p.actor, n, ua, o.extraDelay)
	e.authProvider, e.credentialType = "FACTOR_PROVIDER", "OTP"
	e.factor = "OKTA_VERIFY_PUSH"
	e.requestURI = "/api/v1/authn/factors/" + p.factorID + "/verify"
	e.url = e.requestURI + "?rememberDevice=false"
	risk(e)

	apps := o.apps
	if apps == 0 {
		apps = 1 + r.IntN(3)
	}
	for i := range apps {
		if i == 0 {
			t = t.Add(jitter(r, 3*time.Second, 40*time.Second))
		} else {
			t = t.Add(jitter(r, time.Minute, 45*time.Minute))
		}
		a := randomOf(r, p.apps)
		if o.adminConsole && i == 0 {
			a = app{id: b.g.cat.adminConsoleID, name: "saasure", label: adminConsoleLabel, signOn: "OPENID_CONNECT"}
		}
		e = b.add(t, "user.authentication.sso", p.actor, n, ua, o.extraDelay)
		e.requestURI = "/app/" + a.name + "/" + a.id + "/sso/saml"
		e.url = e.requestURI + "?"
		e.sessionID = sid
		e.authProvider = "OKTA_AUTHENTICATION_PROVIDER"
		e.targets = []target{{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label}, p.appUser(a)}
	}
	if o.logout {
		t = t.Add(jitter(r, 10*time.Minute, 3*time.Hour))
		e = b.add(t, "user.session.end", p.actor, n, ua, o.extraDelay)
		e.requestURI, e.url = "/login/signout", "/login/signout?"
		e.sessionID = sid
		if chance(r, 0.02) {
			e.ip, e.net = "", nil
		}
	}
	return sid, t
}

// personDay writes one ordinary day of p, starting at local midnight day.
// dayIndex counts days from the period start (for VPN days).
func (b *builder) personDay(p *person, day time.Time, dayIndex int) {
	r := b.r
	vpnToday := p.class == classAlwaysVPN || (p.class == classOccasionalVPN && p.vpnDays[dayIndex])
	desk := func() *network {
		if vpnToday {
			return p.vpn
		}
		if chance(r, p.remote) {
			return p.home
		}
		return p.office
	}
	if !isWorkday(day) {
		if chance(r, 0.15) {
			n := p.home
			if vpnToday {
				n = p.vpn
			}
			b.login(p, day.Add(jitter(r, 9*time.Hour, 21*time.Hour)), n, &p.desktop, loginOptions{dtHash: p.dtHash})
		}
		return
	}
	if chance(r, 0.05) {
		return // leave, sick day
	}
	n := desk()
	t := day.Add(jitter(r, 7*time.Hour+30*time.Minute, 10*time.Hour))
	b.login(p, t, n, &p.desktop, loginOptions{failFirst: chance(r, 0.04), dtHash: p.dtHash})
	for range r.IntN(3) {
		t := day.Add(jitter(r, 11*time.Hour, 17*time.Hour+30*time.Minute))
		b.login(p, t, n, &p.desktop, loginOptions{failFirst: chance(r, 0.02), logout: chance(r, 0.3), dtHash: p.dtHash})
	}
	if chance(r, 0.3) {
		mn := p.carrier
		if p.class == classAlwaysVPN {
			mn = p.vpn
		}
		b.login(p, day.Add(jitter(r, 18*time.Hour, 22*time.Hour)), mn, &p.mobile, loginOptions{apps: 1, dtHash: p.mobileDT})
	}
}

// personDays writes every day of the period for p.
func (b *builder) personDays(p *person) {
	start := b.g.start
	first := p.localDayStart(start)
	for d := 0; ; d++ {
		day := first.AddDate(0, 0, d)
		if !day.Before(b.g.cfg.End) {
			return
		}
		idx := int(day.Add(12*time.Hour).Sub(start) / (24 * time.Hour))
		b.personDay(p, day, idx)
	}
}
