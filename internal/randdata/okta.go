package randdata

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// OktaConfig describes a stream of Okta System Log events shaped for the
// built-in rule (First Occurrence of Okta User Session Started via Proxy).
type OktaConfig struct {
	Seed   uint64
	Events int       // events spread uniformly over [End-Days, End]
	Actors int       // regular actors, active over the whole range (skewed activity)
	Days   int       // history span
	End    time.Time // the slot the bench runs; also the end of the data
	// NewActors are actors whose only event is a matching proxy session with
	// @timestamp in the last 5 minutes before End. The built-in rule uses
	// event.ingested (0.5–90 s later), so those ingested after End are new
	// terms of the next slot, not of End (about 10 of 120 with the defaults).
	NewActors int
}

// OktaEnd is the default end of the bench data (a slot of every interval).
var OktaEnd = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// Total is the number of events Each produces.
func (c OktaConfig) Total() int { return c.Events + c.NewActors }

// oktaEvent is the indexed shape of one Okta System Log event (a subset of the
// integration's fields, about 1 KB of JSON).
type oktaEvent struct {
	Timestamp  string         `json:"@timestamp"`
	DataStream map[string]any `json:"data_stream"`
	Event      struct {
		Action   string   `json:"action"`
		Category []string `json:"category"`
		Kind     string   `json:"kind"`
		Outcome  string   `json:"outcome"`
		Dataset  string   `json:"dataset"`
		ID       string   `json:"id"`
		Ingested string   `json:"ingested,omitempty"`
	} `json:"event"`
	Okta struct {
		UUID           string `json:"uuid"`
		EventType      string `json:"event_type"`
		DisplayMessage string `json:"display_message"`
		Actor          struct {
			ID          string `json:"id"`
			Type        string `json:"type"`
			AlternateID string `json:"alternate_id"`
			DisplayName string `json:"display_name"`
		} `json:"actor"`
		Client struct {
			IP        string            `json:"ip"`
			Device    string            `json:"device"`
			UserAgent map[string]string `json:"user_agent"`
		} `json:"client"`
		SecurityContext struct {
			IsProxy bool   `json:"is_proxy"`
			ISP     string `json:"isp"`
			Domain  string `json:"domain"`
		} `json:"security_context"`
		Outcome     map[string]string `json:"outcome"`
		Transaction map[string]string `json:"transaction"`
		Debug       map[string]any    `json:"debug_context"`
	} `json:"okta"`
	Source  map[string]any `json:"source"`
	User    map[string]any `json:"user"`
	Related map[string]any `json:"related"`
}

var oktaTypes = []struct {
	name, message string
	weight        float64
}{
	{"user.session.start", "User login to Okta", 0.40},
	{"user.authentication.verify", "Verify user identity", 0.20},
	{"user.authentication.sso", "User single sign on to app", 0.20},
	{"policy.evaluate_sign_on", "Evaluation of sign-on policy", 0.15},
	{"user.session.end", "User logout from Okta", 0.05},
}

// OktaActorID is the Okta-style user id of actor i ("00u" + 17 characters).
func OktaActorID(i int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	x := uint64(i)*0x9e3779b97f4a7c15 + 0x2545f4914f6cdd1d
	b := []byte("00u")
	for range 17 {
		x ^= x >> 29
		x *= 0xbf58476d1ce4e5b9
		b = append(b, alphabet[x%uint64(len(alphabet))])
	}
	return string(b)
}

// Each generates the events in a reproducible order and passes each document
// (its _id and JSON source) to fn, stopping at fn's first error.
func (c OktaConfig) Each(fn func(id string, source []byte) error) error {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6f6b7461))
	start := c.End.Add(-time.Duration(c.Days) * 24 * time.Hour)
	span := c.End.Sub(start).Milliseconds()
	for i := range c.Total() {
		var actor int
		var ts time.Time
		var proxyMatch bool
		if i < c.Events {
			// Skewed activity: actor = Actors * u^3 favours low indices.
			u := rng.Float64()
			actor = int(float64(c.Actors) * math.Pow(u, 3))
			ts = start.Add(time.Duration(rng.Int64N(span)) * time.Millisecond)
		} else {
			actor = c.Actors + (i - c.Events)
			ts = c.End.Add(-time.Duration(1+rng.Int64N((5*time.Minute).Milliseconds()-1000)) * time.Millisecond)
			proxyMatch = true
		}
		doc := c.event(rng, i, actor, ts, proxyMatch)
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encode okta event %d: %w", i, err)
		}
		if err := fn(fmt.Sprintf("okta-%d", i), b); err != nil {
			return err
		}
	}
	return nil
}

func (c OktaConfig) event(rng *rand.Rand, i, actor int, ts time.Time, proxyMatch bool) *oktaEvent {
	e := &oktaEvent{}
	typ := oktaTypes[0]
	if !proxyMatch {
		x := rng.Float64()
		for _, t := range oktaTypes {
			if x < t.weight {
				typ = t
				break
			}
			x -= t.weight
		}
	}
	id := fmt.Sprintf("%016x-%04x", rng.Uint64(), i%65536)
	e.Timestamp = formatTime(ts)
	e.DataStream = map[string]any{"type": "logs", "dataset": "okta.system", "namespace": "default"}
	e.Event.Action, e.Event.Category, e.Event.Kind = typ.name, []string{"authentication", "session"}, "event"
	e.Event.Outcome, e.Event.Dataset, e.Event.ID = "success", "okta.system", id
	if rng.Float64() < 0.97 {
		e.Event.Ingested = formatTime(ts.Add(time.Duration(500+rng.IntN(90000)) * time.Millisecond))
	}
	o := &e.Okta
	o.UUID, o.EventType, o.DisplayMessage = id, typ.name, typ.message
	actorID := OktaActorID(actor)
	if !proxyMatch && rng.Float64() < 0.02 {
		actorID = "oktaSystem" // system actor, excluded by the query
	}
	name := fmt.Sprintf("user%06d@example.com", actor)
	o.Actor.ID, o.Actor.Type, o.Actor.AlternateID, o.Actor.DisplayName = actorID, "User", name, fmt.Sprintf("User %d", actor)
	ip := fmt.Sprintf("198.51.%d.%d", rng.IntN(256), 1+rng.IntN(254))
	o.Client.IP, o.Client.Device = ip, "Computer"
	o.Client.UserAgent = map[string]string{"raw_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0", "os": "Linux", "browser": "FIREFOX"}
	o.SecurityContext.IsProxy = proxyMatch || rng.Float64() < 0.3
	o.SecurityContext.ISP, o.SecurityContext.Domain = "example isp", "isp.example"
	o.Outcome = map[string]string{"result": "SUCCESS"}
	o.Transaction = map[string]string{"id": id[:16], "type": "WEB"}
	o.Debug = map[string]any{"debug_data": map[string]any{"request_id": id[:16], "request_uri": "/api/v1/authn", "risk_level": "LOW"}}
	e.Source = map[string]any{"ip": ip, "user": map[string]any{"id": actorID, "name": name}}
	e.User = map[string]any{"name": name}
	e.Related = map[string]any{"ip": []string{ip}, "user": []string{name}}
	return e
}

// OktaIndexBody is the create-index body of the bench index: explicit
// mapping of the fields the rule reads, replicas 0, refresh disabled for the
// load (the loader re-enables it).
func OktaIndexBody(shards int) map[string]any {
	kw := map[string]any{"type": "keyword"}
	return map[string]any{
		"settings": map[string]any{"number_of_shards": shards, "number_of_replicas": 0, "refresh_interval": "-1"},
		"mappings": map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"@timestamp": map[string]any{"type": "date"},
				"event": map[string]any{"properties": map[string]any{
					"ingested": map[string]any{"type": "date"}, "action": kw, "dataset": kw, "id": kw, "outcome": kw,
				}},
				"okta": map[string]any{"properties": map[string]any{
					"event_type": kw, "uuid": kw,
					"actor":            map[string]any{"properties": map[string]any{"id": kw, "alternate_id": kw, "type": kw, "display_name": kw}},
					"security_context": map[string]any{"properties": map[string]any{"is_proxy": map[string]any{"type": "boolean"}}},
					"client":           map[string]any{"properties": map[string]any{"ip": map[string]any{"type": "ip"}}},
				}},
				"source": map[string]any{"properties": map[string]any{"ip": map[string]any{"type": "ip"}}},
				"user":   map[string]any{"properties": map[string]any{"name": kw}},
			},
		},
	}
}
