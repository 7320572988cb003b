// Package suggest finds the known name closest to a misspelt one, for
// "unknown key ...; did you mean ...?" messages in rule, config and actions
// files.
package suggest

// Nearest returns the candidate closest to name by optimal string alignment
// distance (insertions, deletions, substitutions and swaps of neighbouring
// characters), or "" when none is close enough to be a likely typo: at most
// one edit for names up to 4 characters, two up to 8, and three beyond.
// Ties go to the earlier candidate.
func Nearest(name string, candidates []string) string {
	limit := 3
	switch n := len([]rune(name)); {
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := distance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b,
// comparing runes case-sensitively except that a difference in case alone
// costs nothing.
func distance(a, b string) int {
	ra, rb := []rune(lower(a)), []rune(lower(b))
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func lower(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r >= 'A' && r <= 'Z' {
			b[i] = r + 'a' - 'A'
		}
	}
	return string(b)
}
