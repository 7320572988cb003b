package backfill

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esquery"
)

func TestOrderFor(t *testing.T) {
	require.Nil(t, orderFor([]string{"boolean"}))
	require.Nil(t, orderFor([]string{"keyword", "long"}), "mixed families")
	require.Nil(t, orderFor([]string{"text"}))
	require.Nil(t, orderFor([]string{"double"}), "floating-point keys are not partitioned")
	require.NotNil(t, orderFor([]string{"keyword", "constant_keyword"}))
	require.Nil(t, orderFor([]string{"date"}))
	require.NotNil(t, orderFor([]string{"long", "integer", "unsigned_long"}))
	require.NotNil(t, orderFor([]string{"ip"}))
}

func TestValueOrders(t *testing.T) {
	cases := []struct {
		name  string
		order valueOrder
		a, b  any
		want  int
	}{
		{"bytes, not collation", compareStrings, "Z", "a", -1},
		{"utf-8 after ascii", compareStrings, "é", "z", 1},
		{"equal", compareStrings, "00u1", "00u1", 0},
		{"numbers by value", compareNumbers, json.Number("9"), json.Number("10"), -1},
		{"negative", compareNumbers, json.Number("-1"), json.Number("0"), -1},
		{"past 2^53", compareNumbers, json.Number("9007199254740993"), json.Number("9007199254740992"), 1},
		{"unsigned long past int64", compareNumbers, json.Number("18446744073709551615"), json.Number("9223372036854775807"), 1},
		{"ips by address", compareIPs, "9.0.0.1", "10.0.0.2", -1},
		{"ipv6 below mapped ipv4", compareIPs, "::1", "0.0.0.1", -1},
		{"ipv6 above mapped ipv4", compareIPs, "2001:db8::1", "255.255.255.255", 1},
	}
	for _, c := range cases {
		got, ok := c.order(c.a, c.b)
		require.True(t, ok, c.name)
		require.Equal(t, c.want, got, c.name)
	}
	_, ok := compareStrings("a", json.Number("1"))
	require.False(t, ok)
	_, ok = compareIPs("a", "1.2.3.4")
	require.False(t, ok)
}

// A document with several values of the first field matches every partition
// holding one of them: the collector skips terms below its partition and
// stops at the first term above it.
func TestCollectorKeepsItsPartition(t *testing.T) {
	c := &collector{fields: []string{"user.name"}, part: partition{Partition: esquery.Partition{Lo: "b", Hi: "d"}}, order: compareStrings}
	key := func(v string) esquery.ScanBucket {
		return esquery.ScanBucket{Key: map[string]json.RawMessage{"user.name": json.RawMessage(`"` + v + `"`)}}
	}
	for _, v := range []string{"a", "b", "c"} {
		require.NoError(t, c.bucket(key(v)))
		require.False(t, c.beyond)
	}
	require.Equal(t, 2, c.terms, "a is below the partition")
	require.NoError(t, c.bucket(key("d")))
	require.True(t, c.beyond)
	require.Equal(t, 2, c.terms)
}
