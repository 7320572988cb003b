package alerts

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIDReferenceVectors(t *testing.T) {
	// docs/alerts.md; computed with object-hash 3.0.0 under Node 20.
	tests := []struct {
		name                      string
		index, doc, space, ruleSO string
		terms                     []any
		want                      string
	}{
		{"single keyword", ".ds-logs-test-2024.01.01-000001", "doc-1", "default", "8f2a-rule-so-id",
			[]any{"host-1"}, "263fc5a28945533043d7f7317cb03bc386090fae"},
		{"keyword number null", ".ds-logs-test-2024.01.01-000001", "doc-1", "default", "8f2a-rule-so-id",
			[]any{"host-1", float64(443), nil}, "301296ba0c71f9ca7fd8256b171bb7376081d0c3"},
		{"boolean", "idx", "id1", "default", "rule-so-uuid",
			[]any{"user-0", false}, "5073c1ef320338d09dd9fa4478cf8f8a19f51cf0"},
		{"number one", "idx", "id1", "default", "rule-so-uuid",
			[]any{"user-0", float64(1)}, "83dc7a51c5065a2f64df4ea7ebbd598f3343c687"},
		{"number one as json.Number", "idx", "id1", "default", "rule-so-uuid",
			[]any{"user-0", json.Number("1")}, "83dc7a51c5065a2f64df4ea7ebbd598f3343c687"},
		{"number one as int64", "idx", "id1", "default", "rule-so-uuid",
			[]any{"user-0", int64(1)}, "83dc7a51c5065a2f64df4ea7ebbd598f3343c687"},
		{"number 443 as json.Number 443.0", ".ds-logs-test-2024.01.01-000001", "doc-1", "default", "8f2a-rule-so-id",
			[]any{"host-1", json.Number("443.0"), nil}, "301296ba0c71f9ca7fd8256b171bb7376081d0c3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ID(tt.index, tt.doc, tt.space, tt.ruleSO, tt.terms))
		})
	}
}

func TestIDKibanaUnitTestVectors(t *testing.T) {
	// wrap_new_terms_alerts.test.ts in Kibana: sampleDocNoSortIdWithTimestamp has
	// _version 1, so the third element is "1" there instead of "undefined".
	const doc, rule = "d5e8eb51-a6a0-456d-8a15-4b79bfec3d71", "04128c15-0d1b-4716-a4c5-46997ac7f3bd"
	tests := []struct {
		space string
		terms []any
		want  string
	}{
		{"default", []any{"127.0.0.1"}, "a36d9fe6fe4b2f65058fb1a487733275f811af58"},
		{"other-space", []any{"127.0.0.1"}, "b8143fa480c96c94688bd70871711fcf5478ee95"},
		{"other-space", []any{"127.0.0.2"}, "9eab1f07709065fa65dd687c2df7a30f4c5f6c9d"},
		{"other-space", []any{"127.0.0.1", "127.0.0.2"}, "7d3dfa1c3f6d5dbf5e7a1b069a9707adbdb48948"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, idWithVersion("myFakeSignalIndex", doc, "1", tt.space, rule, tt.terms))
		})
	}
}

// TestObjectHashNodeVectors checks against digests produced by the real npm
// object-hash 3.0.0 (testdata/objecthash_vectors.js).
func TestObjectHashNodeVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/objecthash_vectors.json")
	require.NoError(t, err)
	var vectors []struct{ Name, JSON, Preimage, SHA1 string }
	require.NoError(t, json.Unmarshal(raw, &vectors))
	require.NotEmpty(t, vectors)
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			for _, useNumber := range []bool{false, true} {
				dec := json.NewDecoder(bytes.NewReader([]byte(v.JSON)))
				if useNumber {
					dec.UseNumber()
				}
				var in any
				require.NoError(t, dec.Decode(&in))
				require.Equal(t, v.Preimage, objectHashPreimage(in))
				require.Equal(t, v.SHA1, objectHash(in))
			}
		})
	}
}

func TestIDTermValueKinds(t *testing.T) {
	// The same JS value must hash the same whatever Go type carries it.
	base := func(term any) string { return ID("idx", "id1", "default", "r", []any{term}) }
	tests := []struct {
		name string
		a, b any
	}{
		{"long above 2^53 rounds like JS", json.Number("9007199254740993"), float64(9007199254740992)},
		{"int64 above 2^53 rounds like JS", int64(9007199254740993), json.Number("9007199254740992")},
		{"18-digit long", json.Number("123456789012345678"), float64(123456789012345680)},
		{"negative zero", math.Copysign(0, -1), float64(0)},
		{"json.Number exponent", json.Number("1E21"), float64(1e21)},
		{"int and float", 7, 7.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, base(tt.a), base(tt.b))
		})
	}
	require.NotEqual(t, base("1"), base(1.0), "string and number terms differ")
	require.NotEqual(t, base(true), base("true"))
	require.Equal(t, ID("i", "d", "s", "r", nil), ID("i", "d", "s", "r", []any{}))
}

func TestJSNumberString(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"}, {443, "443"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123456789012345678, "123456789012345680"},
		{1e-7, "1e-7"}, {0.000001, "0.000001"}, {1.5e-7, "1.5e-7"}, {123e-20, "1.23e-18"},
		{9007199254740993, "9007199254740992"}, {2.5e25, "2.5e+25"}, {-1e21, "-1e+21"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
		{0.30000000000000004, "0.30000000000000004"}, {123.456, "123.456"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, jsNumberString(tt.in))
		})
	}
}

func TestUTF16Length(t *testing.T) {
	require.Equal(t, 4, utf16Len("café"))
	require.Equal(t, 2, utf16Len("😀"))
	require.Equal(t, 3, utf16Len("日本語"))
	require.Equal(t, 0, utf16Len(""))
}

func TestExecutionUUID(t *testing.T) {
	slot := time.Date(2024, 5, 13, 2, 15, 0, 0, time.UTC)
	a := ExecutionUUID("default", "rule-1", slot)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), a)
	require.Equal(t, a, ExecutionUUID("default", "rule-1", slot.In(time.FixedZone("x", 3600))), "same instant, other zone")
	require.NotEqual(t, a, ExecutionUUID("default", "rule-1", slot.Add(time.Minute)))
	require.NotEqual(t, a, ExecutionUUID("other", "rule-1", slot))
	require.NotEqual(t, a, ExecutionUUID("default", "rule-2", slot))
	require.NotEqual(t, ExecutionUUID("a", "bc", slot), ExecutionUUID("ab", "c", slot))
}
