package privileges

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeES answers _has_privileges from granted (pattern → readable).
type fakeES struct {
	status  int
	body    string // fixed answer, if set
	granted map[string]bool
	asked   [][]string
}

func (f *fakeES) Perform(req *http.Request) (*http.Response, error) {
	var in struct {
		Index []struct {
			Names      []string `json:"names"`
			Privileges []string `json:"privileges"`
		} `json:"index"`
	}
	b, _ := io.ReadAll(req.Body)
	_ = json.Unmarshal(b, &in)
	f.asked = append(f.asked, in.Index[0].Names)
	body := f.body
	if body == "" {
		idx := map[string]map[string]bool{}
		for _, n := range in.Index[0].Names {
			idx[n] = map[string]bool{}
			for _, p := range in.Index[0].Privileges {
				idx[n][p] = f.granted[n]
			}
		}
		out, _ := json.Marshal(map[string]any{"has_all_requested": false, "index": idx})
		body = string(out)
	}
	status := f.status
	if status == 0 {
		status = 200
	}
	h := http.Header{}
	h.Set("X-Elastic-Product", "Elasticsearch")
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestCheckRead(t *testing.T) {
	ctx := context.Background()
	f := &fakeES{granted: map[string]bool{"logs-okta*": true, "filebeat-*": true}}
	c := NewChecker(f)
	require.NoError(t, c.CheckRead(ctx, []string{"logs-okta*", "filebeat-*,-filebeat-old", "remote:logs-*", "<logs-{now/d}>"}))
	require.Equal(t, [][]string{{"filebeat-*", "logs-okta*"}}, f.asked, "remote, excluded and date-math patterns are not asked")
	require.NoError(t, c.CheckRead(ctx, []string{"filebeat-*", "logs-okta*"}))
	require.Len(t, f.asked, 1, "a readable list is asked once")

	err := c.CheckRead(ctx, []string{"secret-hr", "logs-okta*"})
	var me *MissingError
	require.ErrorAs(t, err, &me)
	require.Equal(t, map[string][]string{"secret-hr": {"indices:data/read/search", "indices:data/read/field_caps"}}, me.Missing)
	require.ErrorContains(t, err, "it lacks indices:data/read/search and indices:data/read/field_caps on secret-hr; grant the read privilege")
	require.Error(t, c.CheckRead(ctx, []string{"secret-hr", "logs-okta*"}), "a refusal is not remembered as success")
}

func TestCheckReadWithoutSecurity(t *testing.T) {
	f := &fakeES{status: 400, body: `{"error":"no handler found for uri [/_security/user/_has_privileges] and method [POST]"}`}
	c := NewChecker(f)
	require.NoError(t, c.CheckRead(context.Background(), []string{"a"}))
	require.NoError(t, c.CheckRead(context.Background(), []string{"b"}))
	require.Len(t, f.asked, 1, "security off is remembered")
}

func TestCheckReadOtherAnswer(t *testing.T) {
	f := &fakeES{body: `{"took":1,"timed_out":false,"_shards":{"total":0}}`}
	c := NewChecker(f)
	require.NoError(t, c.CheckRead(context.Background(), []string{"a"}), "an answer that is not one of _has_privileges: nothing to check")
}

func TestCheckReadErrors(t *testing.T) {
	f := &fakeES{status: 500, body: `{"error":"boom"}`}
	err := NewChecker(f).CheckRead(context.Background(), []string{"a"})
	require.ErrorContains(t, err, "status 500")
}
