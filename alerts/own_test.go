package alerts

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/internal/estest"
)

func ownAlerts(uuid string, ids ...string) []Alert {
	as := testAlerts(ids...)
	for _, a := range as {
		a.Doc[executionUUIDField] = uuid
	}
	return as
}

// A bulk whose answer was lost (503 after Elasticsearch wrote it) is sent
// again by the client and answers 409: the alerts that carry this
// execution's uuid count as created, the others as duplicates.
func TestCreateRecognisesItsLostAnswer(t *testing.T) {
	tr := estest.NewTransport()
	tr.Script(http.MethodPost, "/esrule-alerts-default/_bulk",
		estest.Error(http.StatusServiceUnavailable, "unavailable_shards_exception", "answer lost"),
		estest.BulkStatuses(409, 409, 201))
	mget := tr.On(http.MethodPost, "/esrule-alerts-default/_mget", estest.JSON(200, `{"docs":[
		{"_id":"a","found":true,"_source":{"kibana":{"alert":{"rule":{"execution":{"uuid":"exec-1"}}}}}},
		{"_id":"b","found":true,"_source":{"kibana.alert.rule.execution.uuid":"exec-0"}}]}`))
	w, _ := newFakeWriter(t, tr, WriterConfig{})
	res, err := w.Create(context.Background(), ownAlerts("exec-1", "a", "b", "c"))
	require.NoError(t, err)
	require.Equal(t, 2, res.Created, "c, and a written by the lost attempt")
	require.Equal(t, 1, res.Duplicate, "b is another execution's")
	require.ElementsMatch(t, []string{"c", "a"}, res.CreatedIDs)
	require.Equal(t, 1, mget.Calls())
}

// A 409 of a bulk sent once is another execution's alert: nothing is read
// back (the uuid names the slot, so a re-run of the slot carries the same).
func TestCreateFirstAttemptConflictsAreDuplicates(t *testing.T) {
	tr := estest.NewTransport()
	tr.On(http.MethodPost, "/esrule-alerts-default/_bulk", estest.BulkStatuses(409, 201))
	mget := tr.On(http.MethodPost, "/esrule-alerts-default/_mget", estest.JSON(200, `{"docs":[]}`))
	w, _ := newFakeWriter(t, tr, WriterConfig{})
	res, err := w.Create(context.Background(), ownAlerts("exec-1", "a", "b"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	require.Equal(t, 1, res.Duplicate)
	require.Zero(t, mget.Calls())
}
