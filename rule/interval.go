package rule

import (
	"fmt"
	"strconv"
	"time"
)

// ParseInterval parses a Kibana rule schedule interval: a positive whole number
// followed by s, m, h or d ("30s", "5m", "1h", "1d"), as Kibana alerting's
// parseDuration accepts.
func ParseInterval(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("parse interval %q: want a whole number and a unit s, m, h or d, like 5m", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	default:
		return 0, fmt.Errorf("parse interval %q: unit %q is not one of s, m, h, d", s, s[len(s)-1:])
	}
	digits := s[:len(s)-1]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parse interval %q: want a whole number and a unit s, m, h or d, like 5m", s)
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("parse interval %q: number out of range", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("parse interval %q: must be greater than zero", s)
	}
	return time.Duration(n) * unit, nil
}
