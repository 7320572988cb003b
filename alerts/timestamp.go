package alerts

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// isoMillis is JavaScript's Date.prototype.toISOString layout.
const isoMillis = "2006-01-02T15:04:05.000Z"

func toISOString(t time.Time) string { return t.UTC().Format(isoMillis) }

// originalTime is getValidDateFromDoc(doc, "@timestamp"): the first value of
// fields["@timestamp"], else _source["@timestamp"], parsed like moment()
// (ISO 8601 or RFC 2822 strings, epoch-millisecond numbers, numeric strings).
func originalTime(source, fields map[string]any) (time.Time, bool) {
	var v any
	if fv, ok := fields["@timestamp"]; ok && fv != nil {
		if arr, ok := fv.([]any); ok {
			if len(arr) > 0 {
				v = arr[0]
			}
		} else {
			v = fv
		}
	} else {
		v = source["@timestamp"]
	}
	switch x := v.(type) {
	case string:
		if t, ok := parseMomentString(x); ok {
			return t, true
		}
		if f, ok := jsNumberFromString(x); ok {
			return epochMillis(f)
		}
		return time.Time{}, false
	}
	if f, ok := toFloat(v); ok {
		return epochMillis(f)
	}
	return time.Time{}, false
}

func epochMillis(f float64) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 8.64e15 {
		return time.Time{}, false
	}
	ms := int64(math.Trunc(f))
	return time.UnixMilli(ms).UTC(), true
}

// parseMomentString parses what moment(string) accepts in practice: ISO 8601
// in extended or basic form (date, optional time with fraction, optional
// offset; no offset means UTC here, where moment would use the server's zone)
// and RFC 2822 dates.
func parseMomentString(s string) (time.Time, bool) {
	if m := isoExtended.FindStringSubmatch(s); m != nil {
		return isoParts(strings.ReplaceAll(strings.TrimSpace(m[1]), "-", ""), strings.ReplaceAll(m[3], ":", ""), m[4])
	}
	if m := isoBasic.FindStringSubmatch(s); m != nil {
		return isoParts(strings.TrimSpace(m[1]), m[3], m[4])
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// isoParts builds a time from an ISO date without separators (YYYY, YYYYMM,
// YYYYMMDD; week and ordinal dates are not supported), a time without colons
// (HH, HHmm, HHmmss[.fff]) and an offset (Z, ±HH, ±HHmm, ±HH:mm).
func isoParts(date, clock, offset string) (time.Time, bool) {
	if strings.ContainsAny(date, "W+-") || len(date) == 7 {
		return time.Time{}, false
	}
	year, _ := strconv.Atoi(date[:4])
	month, day := 1, 1
	if len(date) >= 6 {
		month, _ = strconv.Atoi(date[4:6])
	}
	if len(date) >= 8 {
		day, _ = strconv.Atoi(date[6:8])
	}
	if !validYMD(date[:4] + "-" + twoDigits(month) + "-" + twoDigits(day)) {
		return time.Time{}, false
	}
	hour, minute, second, nanos := 0, 0, 0, 0
	if clock != "" {
		whole, frac, _ := strings.Cut(strings.Replace(clock, ",", ".", 1), ".")
		hour, _ = strconv.Atoi(whole[:2])
		if len(whole) >= 4 {
			minute, _ = strconv.Atoi(whole[2:4])
		}
		if len(whole) >= 6 {
			second, _ = strconv.Atoi(whole[4:6])
		}
		if frac != "" {
			// moment keeps milliseconds only, truncating the rest.
			ms := (frac + "00")[:3]
			n, _ := strconv.Atoi(ms)
			nanos = n * int(time.Millisecond)
		}
		if hour > 24 || minute > 59 || second > 59 {
			return time.Time{}, false
		}
	}
	loc := time.UTC
	offset = strings.TrimSpace(offset)
	if offset != "" && offset != "Z" {
		sign := 1
		if offset[0] == '-' {
			sign = -1
		}
		digits := strings.ReplaceAll(offset[1:], ":", "")
		oh, _ := strconv.Atoi(digits[:2])
		om := 0
		if len(digits) >= 4 {
			om, _ = strconv.Atoi(digits[2:4])
		}
		loc = time.FixedZone("", sign*(oh*3600+om*60))
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, nanos, loc).UTC(), true
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
