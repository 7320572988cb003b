package alerts

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/internal/estest"
)

// TestUnconfirmedAlerts: alerts of a bulk request whose answer never came
// are remembered until claimed or confirmed; definite failures are not.
func TestUnconfirmedAlerts(t *testing.T) {
	ctx := context.Background()
	t.Run("lost answers are remembered once", func(t *testing.T) {
		f, _ := scripted(estest.JSON(503, `busy`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Create(ctx, testAlerts("a", "b"))
		require.Error(t, err)
		require.ElementsMatch(t, []string{"a", "b"}, w.ClaimUnconfirmed([]string{"a", "b", "c"}))
		require.Empty(t, w.ClaimUnconfirmed([]string{"a", "b"}), "claimed once")
	})
	t.Run("an unreadable answer after every retry", func(t *testing.T) {
		f, _ := scripted(estest.JSON(200, `{"items":`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Create(ctx, testAlerts("a"))
		require.Error(t, err)
		require.Equal(t, []string{"a"}, w.ClaimUnconfirmed([]string{"a"}))
	})
	t.Run("rejections are definite", func(t *testing.T) {
		f, _ := scripted(estest.JSON(400, `{"error":{"type":"illegal_argument_exception","reason":"bad"},"status":400}`))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Create(ctx, testAlerts("a"))
		require.Error(t, err)
		f2, _ := scripted(estest.BulkStatuses(201, 400, 429), estest.BulkStatuses(429), estest.BulkStatuses(429), estest.BulkStatuses(429))
		w2, _ := newFakeWriter(t, f2, WriterConfig{})
		_, err = w2.Create(ctx, testAlerts("a", "b", "c"))
		require.Error(t, err)
		require.Empty(t, w.ClaimUnconfirmed([]string{"a"}))
		require.Empty(t, w2.ClaimUnconfirmed([]string{"a", "b", "c"}), "item answers are definite")
	})
	t.Run("a later 201 confirms", func(t *testing.T) {
		f, _ := scripted(estest.JSON(503, `busy`), estest.JSON(503, `busy`), estest.JSON(503, `busy`), estest.JSON(503, `busy`),
			estest.BulkStatuses(201))
		w, _ := newFakeWriter(t, f, WriterConfig{})
		_, err := w.Create(ctx, testAlerts("a"))
		require.Error(t, err)
		res, err := w.Create(ctx, testAlerts("a"))
		require.NoError(t, err)
		require.Equal(t, 1, res.Created)
		require.Empty(t, w.ClaimUnconfirmed([]string{"a"}))
	})
}
