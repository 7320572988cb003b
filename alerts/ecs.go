package alerts

import (
	_ "embed"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ecsFieldsTSV is ECS 9.4.0's field list (field, type, normalization), from
// elastic/ecs generated/csv/fields.csv.
//
//go:embed ecs_fields.tsv
var ecsFieldsTSV string

// ecsTable is the subset of @kbn/alerts-as-data-utils Kibana's
// traverseAndMutateDoc consults: ecsFieldMap (types of non-nested fields),
// the object paths implied by it, and ecsNestedFieldNames.
type ecsTable struct {
	types   map[string]string
	objects map[string]bool
	nested  map[string]bool
}

var ecs = sync.OnceValue(func() *ecsTable {
	t := &ecsTable{types: map[string]string{}, objects: map[string]bool{}, nested: map[string]bool{}}
	all := map[string]string{}
	var names []string
	for _, line := range strings.Split(ecsFieldsTSV, "\n") {
		cols := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(cols) < 2 {
			continue
		}
		all[cols[0]] = cols[1]
		names = append(names, cols[0])
	}
	for _, name := range names {
		typ := all[name]
		// Multi-fields (user.name.text under keyword user.name) are not
		// ecsFieldMap entries in Kibana.
		if i := strings.LastIndex(name, "."); i > 0 {
			if parent, ok := all[name[:i]]; ok && parent != "object" && parent != "nested" {
				continue
			}
		}
		if typ == "nested" {
			t.nested[name] = true
			continue
		}
		t.types[name] = typ
		parts := strings.Split(name, ".")
		for i := 1; i < len(parts); i++ {
			t.objects[strings.Join(parts[:i], ".")] = true
		}
	}
	return t
})

// isField is getIsEcsField: a leaf or an object path of ECS.
func (t *ecsTable) isField(path string) bool {
	_, ok := t.types[path]
	return ok || t.objects[path]
}

// isObject is getIsEcsFieldObject: ECS expects an object at path.
func (t *ecsTable) isObject(path string) bool {
	switch t.types[path] {
	case "object", "flattened", "geo_point":
		return true
	}
	return t.objects[path]
}

// dottedPathValid is validateDottedPathInEcsMappings: no proper prefix of path
// may be an ECS leaf.
func (t *ecsTable) dottedPathValid(path string) bool {
	parts := strings.Split(path, ".")
	prefix := ""
	for _, p := range parts[:len(parts)-1] {
		if prefix == "" {
			prefix = p
		} else {
			prefix += "." + p
		}
		if t.isField(prefix) && !t.isObject(prefix) {
			return false
		}
	}
	return true
}

// ecsCompliant is computeIsEcsCompliant: whether value may stay at path.
func ecsCompliant(value any, path string) bool {
	t := ecs()
	if strings.Contains(path, ".") && !t.dottedPathValid(path) {
		return false
	}
	_, isObj := value.(map[string]any)
	if t.nested[path] {
		if arr, ok := value.([]any); ok {
			for _, e := range arr {
				if _, ok := e.(map[string]any); !ok {
					return false
				}
			}
			return true
		}
		return isObj
	}
	if !t.isField(path) {
		return true
	}
	switch t.types[path] {
	case "geo_point":
		return true
	case "long":
		return validLong(value)
	case "float", "scaled_float":
		return validNumeric(value)
	case "ip":
		return validIP(value)
	case "date":
		return validDate(value)
	case "boolean":
		return validBoolean(value)
	}
	if t.isObject(path) {
		return isObj
	}
	return !isObj
}

// validNumeric is isValidNumericType: a number, or a string Number() accepts.
func validNumeric(v any) bool {
	if isNumber(v) {
		return true
	}
	if s, ok := v.(string); ok {
		_, ok := jsNumberFromString(s)
		return ok
	}
	return false
}

// validLong is isValidLongType: numeric, and no spaces in strings.
func validLong(v any) bool {
	if s, ok := v.(string); ok && strings.Contains(s, " ") {
		return false
	}
	return validNumeric(v)
}

// validBoolean is isValidBooleanType.
func validBoolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return true
	case string:
		return x == "true" || x == "false" || x == ""
	}
	return false
}

// validIP approximates ipaddr.js isValid plus IPv4/IPv6 CIDR parsing.
func validIP(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	return ipaddrLegacyIPv4(s)
}

var ipv4Part = `(0?\d+|0x[a-f0-9]+)`
var ipv4Legacy = regexp.MustCompile(`(?i)^` + ipv4Part + `(?:\.` + ipv4Part + `){0,3}$`)

// ipaddrLegacyIPv4 accepts the inet_aton forms ipaddr.js accepts: 1 to 4
// parts, each decimal, octal (leading 0) or hex (0x).
func ipaddrLegacyIPv4(s string) bool {
	if !ipv4Legacy.MatchString(s) {
		return false
	}
	parts := strings.Split(s, ".")
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		lp := strings.ToLower(p)
		var n uint64
		var err error
		switch {
		case strings.HasPrefix(lp, "0x"):
			n, err = strconv.ParseUint(lp[2:], 16, 64)
		case len(lp) > 1 && lp[0] == '0':
			n, err = strconv.ParseUint(lp[1:], 8, 64)
		default:
			n, err = strconv.ParseUint(lp, 10, 64)
		}
		if err != nil {
			return false
		}
		vals[i] = n
	}
	last := vals[len(vals)-1]
	for _, v := range vals[:len(vals)-1] {
		if v > 255 {
			return false
		}
	}
	return last < uint64(1)<<(8*(5-len(vals)))
}

// isoExtended and isoBasic are moment's strict ISO_8601 shapes.
var (
	isoExtended = regexp.MustCompile(`^\s*((?:[+-]\d{6}|\d{4})-(?:\d\d-\d\d|W\d\d-\d|W\d\d|\d\d\d|\d\d))(?:(T| )(\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?)([+-]\d\d(?::?\d\d)?|\s*Z)?)?$`)
	isoBasic    = regexp.MustCompile(`^\s*((?:[+-]\d{6}|\d{4})(?:\d\d\d\d|W\d\d\d|W\d\d|\d\d\d|\d\d|))(?:(T| )(\d\d(?:\d\d(?:\d\d(?:[.,]\d+)?)?)?)([+-]\d\d(?::?\d\d)?|\s*Z)?)?$`)
	// isoYMDT is the extra "yyyy-MM-DDT" format Kibana allows.
	isoYMDT = regexp.MustCompile(`^\d{4}-\d\d-\d\dT$`)
)

// validDate is isValidDateType: numeric values (epoch millis) or strings in
// moment's strict ISO 8601 with in-range components.
func validDate(v any) bool {
	if validNumeric(v) {
		return true
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	if isoYMDT.MatchString(s) {
		return validYMD(s[:10])
	}
	m := isoExtended.FindStringSubmatch(s)
	if m == nil {
		m = isoBasic.FindStringSubmatch(s)
	}
	if m == nil {
		return false
	}
	date, tm := strings.ReplaceAll(m[1], "-", ""), strings.ReplaceAll(m[3], ":", "")
	if len(date) == 8 && !strings.Contains(date, "W") {
		if !validYMD(date[:4] + "-" + date[4:6] + "-" + date[6:8]) {
			return false
		}
	}
	if tm != "" {
		hh, _ := strconv.Atoi(tm[:2])
		mm, ss := 0, 0
		if len(tm) >= 4 {
			mm, _ = strconv.Atoi(tm[2:4])
		}
		if len(tm) >= 6 {
			ss, _ = strconv.Atoi(tm[4:6])
		}
		if hh > 24 || mm > 59 || ss > 59 || (hh == 24 && (mm != 0 || ss != 0)) {
			return false
		}
	}
	return true
}

func validYMD(s string) bool {
	y, err1 := strconv.Atoi(s[:4])
	mo, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil || mo < 1 || mo > 12 || d < 1 {
		return false
	}
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo-1]
	if mo == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}
