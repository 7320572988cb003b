package schedule

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPreferredSpreadsRulesFairly(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		var live []string
		for i := range n {
			live = append(live, fmt.Sprintf("replica-%d", i))
		}
		count := map[string]int{}
		for i := range 245 {
			count[preferred(live, fmt.Sprintf("default:rule-%d", i))]++
		}
		require.Len(t, count, n)
		for owner, c := range count {
			require.InDelta(t, 245/n, c, float64(245/n)/4+3, "%d replicas: %s has %d rules", n, owner, c)
		}
	}
}

func TestPreferredMovesOnlyTheLeavingReplicasRules(t *testing.T) {
	three := []string{"a", "b", "c"}
	two := []string{"a", "b"}
	for i := range 500 {
		key := fmt.Sprintf("default:rule-%d", i)
		if p := preferred(three, key); p != "c" {
			require.Equal(t, p, preferred(two, key), "rule %s moved though its replica stayed", key)
		}
	}
}
