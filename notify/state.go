package notify

import (
	"strings"
	"time"
)

// Delivery statuses of an action on an alert (esrule.notify.<action>.status).
const (
	// StatusSending: a deliverer claimed the alert and is sending it.
	StatusSending = "sending"
	// StatusPending: a retryable failure; the alert is sent again later.
	StatusPending = "pending"
	// StatusSent: the destination accepted the message.
	StatusSent = "sent"
	// StatusFailed: a permanent failure (or too many attempts); not retried.
	StatusFailed = "failed"
)

// Field is the alert field holding the delivery state: a flattened object
// with one key per action and requestedKey.
const Field = "esrule.notify"

// requestedKey (esrule.notify.requested: true) asks for the delivery of an
// alert written by a manual execution (backfill --notify).
const requestedKey = "requested"

// Mapping is the mapping of Field to add to the alerts indices' properties.
var Mapping = map[string]any{"esrule": map[string]any{"properties": map[string]any{"notify": map[string]any{"type": "flattened"}}}}

// deliveryState is esrule.notify.<action> of one alert.
type deliveryState struct {
	Status    string
	Attempts  int
	LastError string
	SentAt    time.Time
	ClaimedAt time.Time
	ClaimedBy string
}

// notifyState is esrule.notify of one alert.
type notifyState struct {
	requested bool
	actions   map[string]deliveryState
}

// parseNotifyState reads esrule.notify from a (filtered) _source, whether
// its keys are nested objects or dotted names.
func parseNotifyState(source map[string]any) notifyState {
	st := notifyState{actions: map[string]deliveryState{}}
	obj, _ := lookup(source, Field).(map[string]any)
	for k, v := range obj {
		if k == requestedKey {
			st.requested = v == true || v == "true"
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		ds := deliveryState{
			Status:    str(m["status"]),
			LastError: str(m["last_error"]),
			SentAt:    parseTime(str(m["sent_at"])),
			ClaimedAt: parseTime(str(m["claimed_at"])),
			ClaimedBy: str(m["claimed_by"]),
		}
		switch n := m["attempts"].(type) {
		case float64:
			ds.Attempts = int(n)
		case interface{ Int64() (int64, error) }:
			i, _ := n.Int64()
			ds.Attempts = int(i)
		}
		st.actions[k] = ds
	}
	return st
}

// lookup finds a dotted path in a document whose keys may be nested objects,
// dotted names, or a mix of both.
func lookup(doc map[string]any, path string) any {
	if v, ok := doc[path]; ok {
		return v
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if sub, ok := doc[path[:i]].(map[string]any); ok {
			if v := lookup(sub, path[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// stateDoc is the partial document that sets esrule.notify.<action>.
func stateDoc(action string, ds deliveryState) map[string]any {
	m := map[string]any{
		"status":     ds.Status,
		"attempts":   ds.Attempts,
		"last_error": nullable(ds.LastError),
		"sent_at":    nullableTime(ds.SentAt),
		"claimed_at": nullableTime(ds.ClaimedAt),
		"claimed_by": nullable(ds.ClaimedBy),
	}
	return map[string]any{"doc": map[string]any{"esrule": map[string]any{"notify": map[string]any{action: m}}}}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// limitError keeps recorded errors short.
func limitError(s string) string {
	s = strings.TrimSpace(s)
	return truncate(s, 500)
}
