package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// userClass says how a person reaches Okta.
type userClass uint8

const (
	// classDirect users log in from home, office or phone; never proxied.
	classDirect userClass = iota
	// classAlwaysVPN users run a commercial VPN all the time: every event has
	// is_proxy true. Their first event is a first occurrence; after that they
	// always have history.
	classAlwaysVPN
	// classOccasionalVPN users are direct except on one or two days, when
	// they switch a VPN on (travel, privacy).
	classOccasionalVPN
)

// person is an Okta user with stable habits.
type person struct {
	actor    actor
	region   *region
	home     *network
	office   *network
	carrier  *network
	vpn      *network
	desktop  userAgent
	mobile   userAgent
	dtHash   string
	mobileDT string
	factorID string
	apps     []app
	class    userClass
	vpnDays  map[int]bool // day indices (from the period start) with a VPN session
	remote   float64      // probability of working from home on a workday
}

// catalog holds what every part of the data set shares.
type catalog struct {
	apps       []app
	oktaSystem actor // spr… principal: provisioning jobs
	oktaActor  actor // okta… principal: the rule's "not okta.actor.id: okta*" exclusion
	outages    []outage
	pollPhase  time.Duration
	// sign-on policy and rule, and the Okta Admin Console app instance
	policyID, ruleID, adminConsoleID string
}

func (c *catalog) policyTargets() []target {
	return []target{
		{id: c.policyID, typ: "PolicyEntity", alternateID: "unknown", displayName: "Default Policy"},
		{id: c.ruleID, typ: "PolicyRule", alternateID: "unknown", displayName: "Catch-all Rule"},
	}
}

// outage is a collector outage: events published during it arrive at its end.
type outage struct{ start, end time.Time }

func newCatalog(seed uint64, start, end time.Time) *catalog {
	r := newRand(seed, streamCatalog, 0)
	c := &catalog{pollPhase: jitter(r, 0, time.Minute)}
	for _, a := range appCatalog {
		c.apps = append(c.apps, app{id: oktaID(r, "0oa"), name: a.name, label: a.label, signOn: a.signOn})
	}
	c.oktaSystem = actor{id: oktaID(r, "spr"), typ: "SystemPrincipal", alternateID: "system@okta.com", displayName: "Okta System"}
	c.policyID, c.ruleID, c.adminConsoleID = oktaID(r, "00p"), oktaID(r, "0pr"), oktaID(r, "0oa")
	c.oktaActor = actor{id: oktaID(r, "okta"), typ: "SystemPrincipal", alternateID: "workflows@okta.com", displayName: "Okta Workflows"}
	// About one collector outage every three days, 15 to 75 minutes long.
	for d := start; d.Before(end); d = d.Add(24 * time.Hour) {
		if chance(r, 0.35) {
			s := d.Add(jitter(r, 0, 24*time.Hour))
			c.outages = append(c.outages, outage{s, s.Add(jitter(r, 15*time.Minute, 75*time.Minute))})
		}
	}
	return c
}

// newPerson builds user i of a stream. The person's attributes come from
// their own random stream, separate from the stream of their events.
func newPerson(seed, stream uint64, i int, cat *catalog, days int) *person {
	r := newRand(seed, stream, uint64(i))
	first, last, n := personName(i)
	login := strings.ToLower(first + "." + last)
	if n > 0 {
		login += fmt.Sprint(n + 1)
	}
	if stream == streamScenario {
		login = "s." + login
	}
	reg := pickRegion(r)
	city := reg.cities[r.IntN(len(reg.cities))]
	p := &person{
		actor:    actor{id: oktaID(r, "00u"), typ: "User", alternateID: login + "@acme.example", displayName: first + " " + last},
		region:   reg,
		home:     homeNetwork(r, city, i+int(stream)*4096),
		office:   officeNetwork(reg),
		carrier:  carrierNetwork(city),
		desktop:  desktopAgents[r.IntN(len(desktopAgents))],
		mobile:   mobileAgents[r.IntN(len(mobileAgents))],
		dtHash:   hexString(r, 64),
		mobileDT: hexString(r, 64),
		factorID: oktaID(r, "opf"),
		remote:   0.2 + 0.6*r.Float64(),
	}
	k := 2 + r.IntN(4)
	for _, j := range r.Perm(len(cat.apps))[:k] {
		p.apps = append(p.apps, cat.apps[j])
	}
	switch x := r.Float64(); {
	case x < 0.04:
		p.class = classAlwaysVPN
	case x < 0.09:
		p.class = classOccasionalVPN
		p.vpnDays = map[int]bool{r.IntN(days): true}
		if chance(r, 0.3) {
			p.vpnDays[r.IntN(days)] = true
		}
	}
	if p.class != classDirect {
		p.vpn = &vpnProviders[r.IntN(len(vpnProviders))]
	}
	return p
}

// appUser is the AppUser target for p in a.
func (p *person) appUser(a app) target {
	return target{id: "0ua" + p.actor.id[3:12] + a.id[12:], typ: "AppUser", alternateID: p.actor.alternateID, displayName: p.actor.displayName}
}

func (p *person) asTarget() target {
	return target{id: p.actor.id, typ: "User", alternateID: p.actor.alternateID, displayName: p.actor.displayName}
}

// localDayStart returns midnight of day t in p's time zone.
func (p *person) localDayStart(t time.Time) time.Time {
	l := t.In(p.region.zone)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.region.zone)
}

func isWorkday(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// randomOf returns a random element of xs.
func randomOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
