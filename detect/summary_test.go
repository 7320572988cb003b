package detect

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	res := Result{RuleID: "r", Slot: slot, TermsChecked: 3, NewTerms: 1, AlertsCreated: 1,
		Took: 1500 * time.Millisecond, ESTook: 20 * time.Millisecond, Requests: 5}
	s := Summarize(res, nil)
	require.Equal(t, "succeeded", s.Status)
	require.Equal(t, int64(1500), s.TookMs)
	s = Summarize(res, errors.New("boom"))
	require.Equal(t, "failed", s.Status)
	require.Equal(t, "boom", s.Error)
}
