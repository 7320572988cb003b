package backfill

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/netip"
	"strconv"
)

// valueOrder compares two values of the first new-terms field as the
// composite aggregation sorts them (and as a range query bounds them);
// ok is false when a value does not belong to the order.
type valueOrder func(a, b any) (c int, ok bool)

// orderFor returns the order of a field with the given Elasticsearch types,
// or nil when partitioning by ranges is not safe for them: booleans, dates
// (whose keys the composite may format), floating-point numbers, unknown or
// mixed families.
func orderFor(esTypes []string) valueOrder {
	family := ""
	for _, t := range esTypes {
		f := typeFamily(t)
		if f == "" || family != "" && f != family {
			return nil
		}
		family = f
	}
	switch family {
	case "keyword":
		return compareStrings
	case "number":
		return compareNumbers
	case "ip":
		return compareIPs
	}
	return nil
}

func typeFamily(esType string) string {
	switch esType {
	case "keyword", "constant_keyword":
		return "keyword"
	case "long", "integer", "short", "byte", "unsigned_long":
		return "number"
	case "ip":
		return "ip"
	}
	return ""
}

// compareStrings orders keyword values by their UTF-8 bytes.
func compareStrings(a, b any) (int, bool) {
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return bytes.Compare([]byte(x), []byte(y)), true
}

// compareNumbers orders integer keys exactly (unsigned_long and longs past
// 2^53 included).
func compareNumbers(a, b any) (int, bool) {
	x, ok1 := a.(json.Number)
	y, ok2 := b.(json.Number)
	if !ok1 || !ok2 {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
		if j, err := strconv.ParseInt(string(y), 10, 64); err == nil {
			switch {
			case i < j:
				return -1, true
			case i > j:
				return 1, true
			}
			return 0, true
		}
	}
	bx, okx := new(big.Float).SetPrec(256).SetString(string(x))
	by, oky := new(big.Float).SetPrec(256).SetString(string(y))
	if !okx || !oky {
		return 0, false
	}
	return bx.Cmp(by), true
}

// compareIPs orders addresses by their 16-byte form (IPv4 as IPv4-mapped
// IPv6), as Elasticsearch stores and sorts them.
func compareIPs(a, b any) (int, bool) {
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	ax, err1 := netip.ParseAddr(x)
	ay, err2 := netip.ParseAddr(y)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	bx, by := ax.As16(), ay.As16()
	return bytes.Compare(bx[:], by[:]), true
}
