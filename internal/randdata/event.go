// Package randdata generates seeded, reproducible datasets of raw events for a
// synthetic new_terms rule, plus their index mapping and a bulk loader. The
// integration tests compare the executor with internal/oracle on these
// datasets; benchmarks and backfill tests reuse them.
package randdata

import "time"

// Event is one raw source document, placed in a concrete index with a fixed _id.
type Event struct {
	Index  string
	ID     string
	Source map[string]any
}

// Field names used by the synthetic rule and its query.
const (
	FieldTimestamp = "@timestamp"
	FieldIngested  = "event.ingested"
	FieldAction    = "event.action"
	FieldSuccess   = "event.success"
	FieldUserName  = "user.name"
	FieldUserID    = "user.id"
	FieldHostName  = "host.name"
	FieldSourceIP  = "source.ip"
)

// Query is the rule's KQL query. QueryMatches is the same predicate written by hand in Go.
const Query = `event.action:login and not user.name:svc*`

// QueryMatches reports whether a source document matches Query: one of its
// event.action values is exactly "login" (keyword, case-sensitive) and none of
// its user.name values starts with "svc" (a document without user.name passes
// the negation).
func QueryMatches(src map[string]any) bool {
	login := false
	for _, v := range Lookup(src, FieldAction) {
		if s, ok := v.(string); ok && s == "login" {
			login = true
		}
	}
	if !login {
		return false
	}
	for _, v := range Lookup(src, FieldUserName) {
		if s, ok := v.(string); ok && len(s) >= 3 && s[:3] == "svc" {
			return false
		}
	}
	return true
}

// Lookup returns the non-null leaf values of a dotted field in src, whether the
// document nests objects ({"user":{"name":..}}) or uses dotted keys
// ({"user.name":..}) or a mix; arrays are flattened.
func Lookup(src map[string]any, field string) []any {
	var out []any
	lookup(src, field, &out)
	return out
}

func lookup(obj map[string]any, rest string, out *[]any) {
	for i := 0; i <= len(rest); i++ {
		if i < len(rest) && rest[i] != '.' {
			continue
		}
		v, ok := obj[rest[:i]]
		if !ok {
			continue
		}
		if i == len(rest) {
			flatten(v, out)
			continue
		}
		if child, ok := v.(map[string]any); ok {
			lookup(child, rest[i+1:], out)
		}
	}
}

func flatten(v any, out *[]any) {
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			flatten(e, out)
		}
	default:
		*out = append(*out, x)
	}
}

// formatTime renders t the way Kibana and most shippers do: UTC, milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
