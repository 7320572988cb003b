package oracle

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunSeveralFields(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		docs   []Doc
		want   []string
	}{
		{"cartesian product minus history (Kibana's 5-alert example)",
			[]Field{sourceIP, hostName},
			[]Doc{
				doc("h", at("11:30:00.000"), "source.ip", "192.168.1.1", "host.name", []any{"tag-1", "tag-2"}),
				doc("w", at("11:57:00.000"), "source.ip", []any{"192.168.1.1", "192.168.1.2"}, "host.name", []any{"tag-new-1", "tag-2", "tag-new-3"}),
			},
			[]string{"w=[192.168.1.1 tag-new-1]", "w=[192.168.1.1 tag-new-3]",
				"w=[192.168.1.2 tag-2]", "w=[192.168.1.2 tag-new-1]", "w=[192.168.1.2 tag-new-3]"}},
		{"combination new although each value is old",
			[]Field{hostName, sourceIP},
			[]Doc{
				doc("h1", at("11:30:00.000"), "host.name", "host-0", "source.ip", "127.0.0.1"),
				doc("h2", at("11:31:00.000"), "host.name", "host-1", "source.ip", "127.0.0.2"),
				doc("w1", at("11:57:00.000"), "host.name", "host-0", "source.ip", "127.0.0.1"),
				doc("w2", at("11:58:00.000"), "host.name", "host-0", "source.ip", "127.0.0.2"),
			},
			[]string{"w2=[host-0 127.0.0.2]"}},
		{"a document missing one field gives no combination",
			[]Field{userName, hostName},
			[]Doc{
				doc("1", at("11:57:00.000"), "user.name", "u"),
				doc("2", at("11:57:00.001"), "user.name", "u", "host.name", nil),
				doc("3", at("11:57:00.002"), "user.name", []any{}, "host.name", "h"),
			},
			[]string{}},
		{"three fields, numbers and booleans keep their type",
			[]Field{userName, userID, success},
			[]Doc{
				doc("h", at("11:10:00.000"), "user.name", "u1", "user.id", 1, "event.success", true),
				doc("w", at("11:57:00.000"), "user.name", []any{"u1", "u2"}, "user.id", []any{1, float64(2)}, "event.success", true),
			},
			[]string{"w=[u1 2 true]", "w=[u2 1 true]", "w=[u2 2 true]"}},
		{"composite order is by field then value type order",
			[]Field{userID, sourceIP},
			[]Doc{
				doc("a", at("11:57:00.000"), "user.id", 10, "source.ip", []any{"10.0.0.10", "10.0.0.9"}),
				doc("b", at("11:57:00.001"), "user.id", []any{9, -1}, "source.ip", "10.0.0.9"),
			},
			[]string{"b=[-1 10.0.0.9]", "b=[9 10.0.0.9]", "a=[10 10.0.0.9]", "a=[10 10.0.0.10]"}},
		{"combination first seen exactly at from is not new",
			[]Field{userName, hostName},
			[]Doc{
				doc("1", at("11:54:00.000"), "user.name", "u", "host.name", []any{"h", "g"}),
				doc("2", at("11:55:00.000"), "user.name", "u", "host.name", "h"),
				doc("3", at("11:54:00.001"), "user.name", "v", "host.name", "h"),
			},
			[]string{"3=[v h]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, [][]string{tt.want}, created(t, tt.docs, params(tt.fields...)))
		})
	}
}

func TestRunTypedTermsInAlertIDs(t *testing.T) {
	docs := []Doc{doc("w", at("11:57:00.000"), "user.id", float64(7), "event.success", false)}
	res, err := Run(docs, params(userID, success), []time.Time{slot})
	require.NoError(t, err)
	require.Len(t, res[0].Created, 1)
	require.Equal(t, []any{int64(7), false}, res[0].Created[0].NewTerms)
	require.Equal(t, "idx/w/default:rule/[int64:7,bool:false]", res[0].Created[0].AlertID)
}

func TestRunSingleFieldOrderAndMaxSignals(t *testing.T) {
	// Doc counts in the window: b=3, d=2, a=1, c=1, 10=1 and 9=1 for user.id.
	var docs []Doc
	for i, name := range []string{"b", "a", "d", "b", "c", "d", "b"} {
		docs = append(docs, doc(fmt.Sprint(i), at(fmt.Sprintf("11:57:%02d.000", i)), "user.name", name))
	}
	p := params(userName)
	require.Equal(t, [][]string{{"0=[b]", "2=[d]", "1=[a]", "4=[c]"}}, created(t, docs, p))

	p.MaxSignals = 2
	res, err := Run(docs, p, []time.Time{slot})
	require.NoError(t, err)
	require.True(t, res[0].Truncated)
	require.Len(t, res[0].Created, 2)
	require.Equal(t, []any{"d"}, res[0].Created[1].NewTerms)

	p.MaxSignals = 4
	res, err = Run(docs, p, []time.Time{slot})
	require.NoError(t, err)
	require.False(t, res[0].Truncated, "exactly max_signals new terms is no truncation")

	numeric := []Doc{
		doc("1", at("11:57:00.000"), "user.id", 10), doc("2", at("11:57:01.000"), "user.id", 9),
		doc("3", at("11:57:02.000"), "user.id", -5), doc("4", at("11:57:03.000"), "user.id", 100),
	}
	require.Equal(t, [][]string{{"3=[-5]", "2=[9]", "1=[10]", "4=[100]"}}, created(t, numeric, params(userID)))

	ips := []Doc{
		doc("1", at("11:57:00.000"), "source.ip", "10.0.0.10"), doc("2", at("11:57:01.000"), "source.ip", "10.0.0.9"),
		doc("3", at("11:57:02.000"), "source.ip", "9.255.255.255"),
	}
	require.Equal(t, [][]string{{"3=[9.255.255.255]", "2=[10.0.0.9]", "1=[10.0.0.10]"}}, created(t, ips, params(sourceIP)))

	utf8 := []Doc{doc("1", at("11:57:00.000"), "user.name", "😀"), doc("2", at("11:57:01.000"), "user.name", "～")}
	require.Equal(t, [][]string{{"2=[～]", "1=[😀]"}}, created(t, utf8, params(userName)), "keywords sort by UTF-8 bytes")
}

func TestRunSlotsDeduplicateAndCarryTruncatedTerms(t *testing.T) {
	// Slot 2 (12:05) has from 11:59: terms first seen after 11:59 stay new in slot 2.
	slot2 := slot.Add(5 * time.Minute)
	docs := []Doc{
		doc("1", at("11:59:30.000"), "user.name", "a"),
		doc("2", at("11:59:31.000"), "user.name", "b"),
		doc("3", at("11:58:00.000"), "user.name", "c"),
		doc("4", at("12:02:00.000"), "user.name", "d"),
		doc("5", at("11:59:32.000"), "user.name", "e"),
	}
	p := params(userName)
	p.MaxSignals = 2
	res, err := Run(docs, p, []time.Time{slot, slot2})
	require.NoError(t, err)
	// Slot 1: a, b, c, e are new (count 1 each, key order); quota 2 → a, b; truncated.
	require.True(t, res[0].Truncated)
	require.Equal(t, 0, res[0].Duplicates)
	// Slot 2: a, b (duplicates), d, e new; c is history now.
	require.Equal(t, 2, res[1].Duplicates)
	require.False(t, res[1].Truncated)
	require.Equal(t, [][]string{{"1=[a]", "2=[b]"}, {"4=[d]", "5=[e]"}}, created(t, docs, p, slot, slot2))
}

func TestRunPagesOfTenThousandKeys(t *testing.T) {
	// 10,002 new terms with one document each, except the last key which has 5.
	// The last key is on the second composite page, so the first page's terms,
	// by key, come first despite the larger count on page 2.
	var docs []Doc
	base := time.Date(2026, 1, 1, 11, 55, 0, 0, time.UTC)
	for i := range 10002 {
		n := 1
		if i == 10001 {
			n = 5
		}
		for j := range n {
			ts := base.Add(time.Duration(i*10+j) * time.Millisecond).Format(time.RFC3339Nano)
			docs = append(docs, doc(fmt.Sprintf("%d-%d", i, j), ts, "user.name", fmt.Sprintf("k%05d", i)))
		}
	}
	p := params(userName)
	p.MaxSignals = 10001
	res, err := Run(docs, p, []time.Time{slot})
	require.NoError(t, err)
	c := res[0].Created
	require.Len(t, c, 10001)
	require.True(t, res[0].Truncated)
	require.Equal(t, []any{"k00000"}, c[0].NewTerms)
	require.Equal(t, []any{"k09999"}, c[9999].NewTerms)
	require.Equal(t, []any{"k10001"}, c[10000].NewTerms, "page 2 ordered by count: the 5-document term first")
	require.Equal(t, 5, c[10000].DocCount)
}

func TestRunTiesGiveAlternatives(t *testing.T) {
	docs := []Doc{
		{Index: "idx-b", ID: "2", Source: map[string]any{"@timestamp": at("11:57:00.000"), "user.name": "x"}},
		{Index: "idx-a", ID: "1", Source: map[string]any{"@timestamp": at("11:57:00.000"), "user.name": "x"}},
	}
	res, err := Run(docs, params(userName), []time.Time{slot})
	require.NoError(t, err)
	require.Len(t, res[0].Created, 1)
	a := res[0].Created[0]
	require.Equal(t, DocRef{"idx-a", "1"}, a.Source)
	require.Equal(t, []Choice{{AlertID: "idx-b/2/default:rule/[string:x]", Source: DocRef{"idx-b", "2"}}}, a.Alternatives)
}

func TestRunRejectsBadParams(t *testing.T) {
	p := params()
	p.MaxSignals = 0
	_, err := Run(nil, p, nil)
	require.ErrorContains(t, err, "1 to 3 new-terms fields")
	require.ErrorContains(t, err, "max_signals")
}
