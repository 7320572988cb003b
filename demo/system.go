package demo

import (
	"time"
)

// helpDeskStaff is the number of IT service desk admins (stream streamStaff).
const helpDeskStaff = 2

// systemEvents writes the background activity that is not a user logging in:
// provisioning jobs of the Okta System principal (spr…), profile updates by
// the okta… principal, and the service desk's password and factor resets.
func (b *builder) systemEvents() {
	g := b.g
	r := b.r
	for t := g.start.Add(jitter(r, 0, 20*time.Minute)); t.Before(g.cfg.End); t = t.Add(jitter(r, 5*time.Minute, 35*time.Minute)) {
		if g.cfg.Users == 0 {
			break
		}
		u := newPerson(g.cfg.Seed, streamUser, r.IntN(g.cfg.Users), g.cat, g.cfg.Days)
		a := randomOf(r, u.apps)
		e := b.add(t, "app.user_management.push_profile", g.cat.oktaSystem, nil, nil, 0)
		e.transactionType = "JOB"
		e.targets = []target{{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label}, u.appUser(a)}
	}
	for t := g.start.Add(jitter(r, 0, 2*time.Hour)); t.Before(g.cfg.End); t = t.Add(jitter(r, time.Hour, 3*time.Hour)) {
		if g.cfg.Users == 0 {
			break
		}
		u := newPerson(g.cfg.Seed, streamUser, r.IntN(g.cfg.Users), g.cat, g.cfg.Days)
		e := b.add(t, "user.account.update_profile", g.cat.oktaActor, nil, nil, 0)
		e.transactionType = "JOB"
		e.targets = []target{u.asTarget()}
	}
}

// staff returns the service desk admins.
func (g *Generator) staff() []*person {
	var ps []*person
	for i := range helpDeskStaff {
		p := newPerson(g.cfg.Seed, streamStaff, i, g.cat, g.cfg.Days)
		p.class, p.vpn, p.vpnDays = classDirect, nil, nil
		p.remote = 0
		ps = append(ps, p)
	}
	return ps
}

// helpDeskDays writes admin's own logins and, on workdays, a few password and
// factor resets for random users.
func (b *builder) helpDeskDays(admin *person) {
	g := b.g
	r := b.r
	b.personDays(admin)
	first := admin.localDayStart(g.start)
	for d := 0; ; d++ {
		day := first.AddDate(0, 0, d)
		if !day.Before(g.cfg.End) {
			return
		}
		if !isWorkday(day) || g.cfg.Users == 0 {
			continue
		}
		for range 1 + r.IntN(1+g.cfg.Users/150) {
			u := newPerson(g.cfg.Seed, streamUser, r.IntN(g.cfg.Users), g.cat, g.cfg.Days)
			typ := "user.account.reset_password"
			if chance(r, 0.4) {
				typ = "user.mfa.factor.reset_all"
			}
			e := b.add(day.Add(jitter(r, 9*time.Hour, 17*time.Hour)), typ, admin.actor, admin.office, &admin.desktop, 0)
			e.requestURI = "/api/v1/users/" + u.actor.id + "/lifecycle/reset_factors"
			e.url = e.requestURI + "?"
			e.targets = []target{u.asTarget()}
		}
	}
}
