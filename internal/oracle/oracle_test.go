package oracle

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var slot = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) // from 11:54, history start 11:00

// fakeID makes alert ids readable in test failures; types are part of it.
func fakeID(index, docID, space, rule string, terms []any) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = fmt.Sprintf("%T:%v", t, t)
	}
	return fmt.Sprintf("%s/%s/%s:%s/[%s]", index, docID, space, rule, strings.Join(parts, ","))
}

func params(fields ...Field) Params {
	return Params{
		Fields: fields, History: time.Hour, Lookback: 6 * time.Minute, MaxSignals: 100,
		Match: func(src map[string]any) bool { return src["skip"] == nil },
		Space: "default", RuleID: "rule", AlertID: fakeID,
	}
}

var (
	userName = Field{"user.name", Keyword}
	hostName = Field{"host.name", Keyword}
	userID   = Field{"user.id", Long}
	sourceIP = Field{"source.ip", IP}
	success  = Field{"event.success", Boolean}
)

// at returns an ISO timestamp for "hh:mm:ss.mmm" on the slot's day.
func at(clock string) string { return "2026-01-01T" + clock + "Z" }

func doc(id, ts string, kv ...any) Doc {
	src := map[string]any{}
	if ts != "" {
		src["@timestamp"] = ts
	}
	for i := 0; i < len(kv); i += 2 {
		src[kv[i].(string)] = kv[i+1]
	}
	return Doc{Index: "idx", ID: id, Source: src}
}

// created summarises one slot's alerts as "docID=terms".
func created(t *testing.T, docs []Doc, p Params, slots ...time.Time) [][]string {
	t.Helper()
	if len(slots) == 0 {
		slots = []time.Time{slot}
	}
	res, err := Run(docs, p, slots)
	require.NoError(t, err)
	var out [][]string
	for _, r := range res {
		s := []string{}
		for _, a := range r.Created {
			s = append(s, fmt.Sprintf("%s=%v", a.Source.ID, a.NewTerms))
		}
		out = append(out, s)
	}
	return out
}

func TestRunBoundaries(t *testing.T) {
	tests := []struct {
		name string
		docs []Doc
		want []string
	}{
		{"first seen exactly at from is not new",
			[]Doc{doc("1", at("11:54:00.000"), "user.name", "x"), doc("2", at("11:58:00.000"), "user.name", "x")},
			[]string{}},
		{"first seen 1ms after from is new, oldest doc alerts",
			[]Doc{doc("2", at("11:58:00.000"), "user.name", "x"), doc("1", at("11:54:00.001"), "user.name", "x")},
			[]string{"1=[x]"}},
		{"1ms before from is history only",
			[]Doc{doc("1", at("11:53:59.999"), "user.name", "x")},
			[]string{}},
		{"1ms before from makes a later occurrence old",
			[]Doc{doc("1", at("11:53:59.999"), "user.name", "x"), doc("2", at("11:55:00.000"), "user.name", "x")},
			[]string{}},
		{"to is inclusive",
			[]Doc{doc("1", at("12:00:00.000"), "user.name", "x")},
			[]string{"1=[x]"}},
		{"1ms after to is ignored",
			[]Doc{doc("1", at("12:00:00.001"), "user.name", "x")},
			[]string{}},
		{"history start is inclusive",
			[]Doc{doc("1", at("11:00:00.000"), "user.name", "x"), doc("2", at("11:57:00.000"), "user.name", "x")},
			[]string{}},
		{"1ms before history start is forgotten",
			[]Doc{doc("1", at("10:59:59.999"), "user.name", "x"), doc("2", at("11:57:00.000"), "user.name", "x")},
			[]string{"2=[x]"}},
		{"documents not matching the query are not history",
			[]Doc{doc("1", at("11:30:00.000"), "user.name", "x", "skip", true), doc("2", at("11:57:00.000"), "user.name", "x")},
			[]string{"2=[x]"}},
		{"null, missing and empty values never alert",
			[]Doc{doc("1", at("11:57:00.000"), "user.name", nil), doc("2", at("11:57:00.001")),
				doc("3", at("11:57:00.002"), "user.name", []any{}), doc("4", at("11:57:00.003"), "user.name", []any{nil, "y"})},
			[]string{"4=[y]"}},
		{"arrays give one candidate per value",
			[]Doc{doc("1", at("11:30:00.000"), "user.name", "a"), doc("2", at("11:57:00.000"), "user.name", []any{"a", "b", "b"})},
			[]string{"2=[b]"}},
		{"dotted and nested keys are the same field",
			[]Doc{doc("1", at("11:30:00.000"), "user", map[string]any{"name": "a"}), doc("2", at("11:57:00.000"), "user.name", []any{"a", "c"})},
			[]string{"2=[c]"}},
		{"epoch millis and offsets are read",
			[]Doc{doc("1", "2026-01-01T12:50:00.000+01:00", "user.name", "a"), doc("2", at("11:56:00.000"), "user.name", "a"),
				doc("3", "", "@timestamp", float64(time.Date(2026, 1, 1, 11, 58, 0, 0, time.UTC).UnixMilli()), "user.name", "b")},
			[]string{"3=[b]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, [][]string{tt.want}, created(t, tt.docs, params(userName)))
		})
	}
}

func TestRunTimestampOverride(t *testing.T) {
	docs := []Doc{
		// Term "old": ingested in history, a copy without event.ingested in the window.
		doc("1", at("11:57:00.000"), "event.ingested", at("11:50:00.000"), "user.name", "old"),
		doc("2", at("11:58:00.000"), "user.name", "old"),
		// Term "fb": only a document without event.ingested.
		doc("3", at("11:58:30.000"), "user.name", "fb"),
		// Term "late": @timestamp in history, ingested in the window.
		doc("4", at("11:30:00.000"), "event.ingested", at("11:57:30.000"), "user.name", "late"),
		// Term "early": ingested before @timestamp, in history.
		doc("5", at("11:56:00.000"), "event.ingested", at("11:40:00.000"), "user.name", "early"),
		doc("6", at("11:59:00.000"), "event.ingested", at("11:59:00.500"), "user.name", "early"),
	}
	tests := []struct {
		name             string
		override         string
		fallbackDisabled bool
		want             []string
	}{
		// Without override: "old" (docs 1, 2) and "early" (docs 5, 6) are new with
		// two documents each, so they come first, in key order; then "fb".
		{"no override uses @timestamp", "", false, []string{"5=[early]", "1=[old]", "3=[fb]"}},
		{"override with fallback", "event.ingested", false, []string{"3=[fb]", "4=[late]"}},
		{"override without fallback ignores documents lacking it", "event.ingested", true, []string{"4=[late]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params(userName)
			p.TimestampOverride, p.FallbackDisabled = tt.override, tt.fallbackDisabled
			require.Equal(t, [][]string{tt.want}, created(t, docs, p))
		})
	}
}
