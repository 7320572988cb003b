package rule

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxDateMathYears bounds how far one date-math step may move: 10,000
// years, so that every result stays within what time.Duration, Kibana's
// moment and Elasticsearch's date format can hold.
const maxDateMathYears = 10000

// maxDateMathAmount is the largest amount of unit within maxDateMathYears.
func maxDateMathAmount(unit string) int64 {
	const days = maxDateMathYears * 366
	switch unit {
	case "y":
		return maxDateMathYears
	case "M":
		return 12 * maxDateMathYears
	case "w":
		return days / 7
	case "d":
		return days
	case "h", "H":
		return days * 24
	case "m":
		return days * 24 * 60
	case "s":
		return days * 24 * 3600
	default: // "ms"
		return days * 24 * 3600 * 1000
	}
}

// minWindowTime and maxWindowTime bound the evaluated from, to and history
// start: Elasticsearch's date format (and RFC 3339) has four-digit years.
var (
	minWindowTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxWindowTime = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
)

// checkWindowTime says what is wrong with a window bound outside years
// 1 to 9999.
func checkWindowTime(t time.Time) error {
	if t.Before(minWindowTime) || t.After(maxWindowTime) {
		return fmt.Errorf("evaluates to %s, outside the years 1 to 9999 that Elasticsearch dates can hold",
			t.Format("2006-01-02T15:04:05Z07:00"))
	}
	return nil
}

// maxSpaceLength keeps the alerts index names of a space
// (esrule-alerts-<space>-00000N) under Elasticsearch's 255 bytes; the same
// bound as mappings.ValidateSpace.
const maxSpaceLength = 200

// rolloverSuffix is the -00000N suffix of concrete alerts indices.
var rolloverSuffix = regexp.MustCompile(`-[0-9]{6}$`)

// validateSpace applies Kibana's space id rule and esrule's index naming
// (mappings.ValidateSpace checks the same when indices are installed).
func validateSpace(space string) error {
	switch {
	case !spaceIDPattern.MatchString(space):
		return fmt.Errorf("%q is not a Kibana space id (lowercase letters, digits, _ and -)", space)
	case len(space) > maxSpaceLength:
		return fmt.Errorf("is %d characters long; at most %d, so that the alerts index names stay under Elasticsearch's 255 bytes", len(space), maxSpaceLength)
	case rolloverSuffix.MatchString(space):
		return fmt.Errorf("%q ends like a rollover index (-NNNNNN): its alerts alias would be the name of an alerts index of space %q", space, space[:len(space)-7])
	}
	return nil
}

// metadataFields are Elasticsearch metadata fields that cannot be
// aggregated on, so cannot be new terms fields.
var metadataFields = map[string]bool{
	"_id": true, "_source": true, "_score": true, "_routing": true, "_field_names": true,
	"_version": true, "_seq_no": true, "_primary_term": true, "_nested_path": true, "_doc_count": true,
}

// newTermsFieldProblem says why f cannot be a new terms field, or "".
// Elasticsearch's terms and composite aggregations need one concrete,
// aggregatable field: no wildcards, no unaggregatable metadata field. Text
// fields are found only with the cluster's field capabilities
// (rules validate --typed).
func newTermsFieldProblem(f string) string {
	switch {
	case strings.ContainsAny(f, "*?"):
		return fmt.Sprintf("%q is a wildcard pattern; new terms fields are concrete field names", f)
	case metadataFields[f]:
		return fmt.Sprintf("%q is a metadata field Elasticsearch cannot aggregate on", f)
	case strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, ".."):
		return fmt.Sprintf("%q is not a field name (empty component between dots)", f)
	case f != strings.TrimSpace(f):
		return fmt.Sprintf("%q has leading or trailing blanks", f)
	}
	return ""
}

// outOfRangeInt returns the text of v when it is an integer that asInt
// refuses for its size (a TOML integer or a JSON number without fraction).
func outOfRangeInt(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		if _, ok := new(big.Int).SetString(x.String(), 10); ok {
			return x.String(), true
		}
	}
	return "", false
}
