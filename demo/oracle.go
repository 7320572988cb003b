package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The built-in rule's schedule (docs/commands.md).
const (
	ruleInterval = 5 * time.Minute    // interval 5m
	ruleLookback = 6 * time.Minute    // from now-6m
	ruleHistory  = 7 * 24 * time.Hour // history_window_start now-7d
)

// Oracle computes the built-in rule's alerts by brute force, to check the
// executor against. It keeps the documents that match the rule's query and,
// for every slot, applies the new-terms definition literally:
//
//   - query: event.dataset is okta.system, okta.event_type is
//     user.session.start or user.authentication.verify,
//     okta.security_context.is_proxy is true, and okta.actor.id does not start
//     with "okta" (a document without okta.actor.id has no term: no alert);
//   - time of a document: event.ingested, or @timestamp when event.ingested
//     is absent (timestamp_override with fallback);
//   - at slot T (a multiple of 5 minutes), an actor is new when its earliest
//     matching document in [T-7d, T] is later than T-6m; the alert's source is
//     its oldest matching document in [T-6m, T] (ties: earliest @timestamp,
//     then smallest _id);
//   - an alert is identified by (index, _id, actor), so the overlapping
//     minute of two consecutive slots does not alert twice.
//
// It reads nested JSON objects only (the generator writes no dotted keys).
// Cost is slots × matching documents; meant for tests, not for millions.
type Oracle struct {
	matches []oracleMatch
}

type oracleMatch struct {
	actor, index, id string
	ts, timestamp    time.Time
}

type oracleDoc struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		Dataset  string `json:"dataset"`
		Ingested string `json:"ingested"`
	} `json:"event"`
	Okta struct {
		EventType string `json:"event_type"`
		Actor     struct {
			ID string `json:"id"`
		} `json:"actor"`
		SecurityContext struct {
			IsProxy any `json:"is_proxy"`
		} `json:"security_context"`
	} `json:"okta"`
}

// Add decodes d and keeps it when it matches the rule's query.
func (o *Oracle) Add(d Doc) error {
	var doc oracleDoc
	if err := json.Unmarshal(d.Body, &doc); err != nil {
		return fmt.Errorf("decode document %s: %w", d.ID, err)
	}
	proxy := doc.Okta.SecurityContext.IsProxy
	if doc.Event.Dataset != "okta.system" ||
		(doc.Okta.EventType != "user.session.start" && doc.Okta.EventType != "user.authentication.verify") ||
		(proxy != true && proxy != "true") ||
		doc.Okta.Actor.ID == "" || strings.HasPrefix(doc.Okta.Actor.ID, "okta") {
		return nil
	}
	timestamp, err := time.Parse(time.RFC3339Nano, doc.Timestamp)
	if err != nil {
		return fmt.Errorf("parse @timestamp of %s: %w", d.ID, err)
	}
	ts := timestamp
	if doc.Event.Ingested != "" {
		if ts, err = time.Parse(time.RFC3339Nano, doc.Event.Ingested); err != nil {
			return fmt.Errorf("parse event.ingested of %s: %w", d.ID, err)
		}
	}
	o.matches = append(o.matches, oracleMatch{actor: doc.Okta.Actor.ID, index: d.Index, id: d.ID, ts: ts, timestamp: timestamp})
	return nil
}

// Matches returns the number of documents that matched the query.
func (o *Oracle) Matches() int { return len(o.matches) }

// Alerts runs every slot T with first <= T <= last and returns the alerts in
// slot order (then actor id).
func (o *Oracle) Alerts(first, last time.Time) []ExpectedAlert {
	type alertKey struct{ index, id, actor string }
	seen := map[alertKey]bool{}
	var out []ExpectedAlert
	for slot := firstSlot(first.UTC()); !slot.After(last); slot = slot.Add(ruleInterval) {
		from, historyStart := slot.Add(-ruleLookback), slot.Add(-ruleHistory)
		firstSeen := map[string]time.Time{}
		oldest := map[string]oracleMatch{}
		for _, m := range o.matches {
			if m.ts.Before(historyStart) || m.ts.After(slot) {
				continue
			}
			if fs, ok := firstSeen[m.actor]; !ok || m.ts.Before(fs) {
				firstSeen[m.actor] = m.ts
			}
			if m.ts.Before(from) {
				continue
			}
			if cur, ok := oldest[m.actor]; !ok || olderMatch(m, cur) {
				oldest[m.actor] = m
			}
		}
		var slotAlerts []ExpectedAlert
		for actor, m := range oldest {
			if !firstSeen[actor].After(from) {
				continue
			}
			k := alertKey{m.index, m.id, actor}
			if seen[k] {
				continue
			}
			seen[k] = true
			slotAlerts = append(slotAlerts, ExpectedAlert{ActorID: actor, Time: m.ts, Index: m.index, DocID: m.id, Slot: slot})
		}
		sortAlerts(slotAlerts)
		out = append(out, slotAlerts...)
	}
	return out
}

func olderMatch(a, b oracleMatch) bool {
	if !a.ts.Equal(b.ts) {
		return a.ts.Before(b.ts)
	}
	if !a.timestamp.Equal(b.timestamp) {
		return a.timestamp.Before(b.timestamp)
	}
	return a.id < b.id
}
