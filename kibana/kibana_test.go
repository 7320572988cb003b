package kibana

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/mappings"
)

// savedObject is one line of the NDJSON.
type savedObject struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
	References []struct {
		Name, Type, ID string
	} `json:"references"`
	CoreMigrationVersion string `json:"coreMigrationVersion"`
	TypeMigrationVersion string `json:"typeMigrationVersion"`
}

func parseObjects(t *testing.T, ndjson []byte) []savedObject {
	t.Helper()
	var out []savedObject
	sc := bufio.NewScanner(bytes.NewReader(ndjson))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var o savedObject
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&o), "line %d", line)
		out = append(out, o)
	}
	require.NoError(t, sc.Err())
	return out
}

// attrJSON decodes an attribute that Kibana stores as a JSON string.
func attrJSON(t *testing.T, o savedObject, path ...string) any {
	t.Helper()
	var cur any = o.Attributes
	for _, p := range path {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%s %s: %v is not an object", o.Type, o.ID, path)
		cur = m[p]
	}
	s, ok := cur.(string)
	require.True(t, ok, "%s %s: %v is not a JSON string", o.Type, o.ID, path)
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), "%s %s: %v", o.Type, o.ID, path)
	return v
}

// fieldTypes returns the leaf types of a mapping's properties by dotted name.
func fieldTypes(props map[string]any, prefix string, out map[string]string) {
	for name, v := range props {
		node := v.(map[string]any)
		if sub, ok := node["properties"].(map[string]any); ok {
			fieldTypes(sub, prefix+name+".", out)
			continue
		}
		if t, ok := node["type"].(string); ok {
			out[prefix+name] = t
		}
	}
}

// alertFields are the fields of both alert targets' mappings with a type
// that both map alike: the data view covers both.
func alertFields(t *testing.T) map[string]string {
	t.Helper()
	var tmpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(mappings.AlertsTemplateJSON(), &tmpl))
	var kbn struct {
		Mappings struct {
			Properties map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	require.NoError(t, json.Unmarshal(mappings.KibanaSecurityAlertsIndex(), &kbn))
	esrule, kibana := map[string]string{}, map[string]string{}
	fieldTypes(tmpl.Template.Mappings.Properties, "", esrule)
	fieldTypes(kbn.Mappings.Properties, "", kibana)
	both := map[string]string{}
	for f, typ := range esrule {
		if kibana[f] == typ {
			both[f] = typ
		}
	}
	return both
}

// TestSavedObjectsStructure checks the shipped NDJSON: known types with
// migration versions, unique ids, every reference resolved inside the file,
// JSON-string attributes that parse, and every field the objects aggregate on
// or show mapped (aggregatable) in both alert targets' mappings.
func TestSavedObjectsStructure(t *testing.T) {
	objs := parseObjects(t, SavedObjects())
	fields := alertFields(t)
	byID := map[string]savedObject{}
	count := map[string]int{}
	for _, o := range objs {
		require.NotEmpty(t, o.ID)
		require.NotContains(t, byID, o.Type+"/"+o.ID, "duplicate id")
		byID[o.Type+"/"+o.ID] = o
		count[o.Type]++
		require.NotEmpty(t, o.CoreMigrationVersion, o.ID)
		require.NotEmpty(t, o.TypeMigrationVersion, o.ID)
		require.NotEmpty(t, o.Attributes["title"], o.ID)
	}
	require.Equal(t, map[string]int{"index-pattern": 1, "search": 1, "visualization": 4, "dashboard": 1}, count)
	for _, o := range objs {
		for _, r := range o.References {
			_, ok := byID[r.Type+"/"+r.ID]
			require.True(t, ok, "%s %s references %s %s, which the file lacks", o.Type, o.ID, r.Type, r.ID)
		}
	}
	refNames := func(o savedObject) map[string]bool {
		m := map[string]bool{}
		for _, r := range o.References {
			m[r.Name] = true
		}
		return m
	}

	dv := byID["index-pattern/"+DataViewID]
	require.Equal(t, "@timestamp", dv.Attributes["timeFieldName"])
	require.Equal(t, "esrule-alerts-*,.alerts-security.alerts-*", dv.Attributes["title"])
	for _, k := range []string{"fieldFormatMap", "sourceFilters", "runtimeFieldMap", "fields"} {
		attrJSON(t, dv, k)
	}

	for _, o := range objs {
		switch o.Type {
		case "search", "visualization":
			src := attrJSON(t, o, "kibanaSavedObjectMeta", "searchSourceJSON").(map[string]any)
			require.True(t, refNames(o)[src["indexRefName"].(string)], "%s: indexRefName resolves", o.ID)
		}
		switch o.Type {
		case "search":
			for _, col := range o.Attributes["columns"].([]any) {
				require.Contains(t, fields, col, "saved search column")
			}
		case "visualization":
			vis := attrJSON(t, o, "visState").(map[string]any)
			require.Contains(t, []any{"histogram", "table"}, vis["type"])
			for _, agg := range vis["aggs"].([]any) {
				a := agg.(map[string]any)
				field, ok := a["params"].(map[string]any)["field"].(string)
				if !ok {
					require.Equal(t, "count", a["type"])
					continue
				}
				require.Contains(t, []string{"keyword", "date", "ip", "long", "float"}, fields[field], "%s aggregates on %s", o.ID, field)
			}
			attrJSON(t, o, "uiStateJSON")
		case "dashboard":
			panels := attrJSON(t, o, "panelsJSON").([]any)
			require.Len(t, panels, 5)
			names := refNames(o)
			for _, p := range panels {
				pm := p.(map[string]any)
				ref := pm["panelIndex"].(string) + ":" + pm["panelRefName"].(string)
				require.True(t, names[ref], "panel reference %s resolves", ref)
				require.Equal(t, pm["panelIndex"], pm["gridData"].(map[string]any)["i"])
			}
			attrJSON(t, o, "optionsJSON")
			attrJSON(t, o, "kibanaSavedObjectMeta", "searchSourceJSON")
		}
	}
}

// fakeKibana is a small fake of Kibana's saved-objects import API: it checks
// the request as Kibana does and keeps the objects by space, type and id.
type fakeKibana struct {
	t        *testing.T
	mu       sync.Mutex
	objects  map[string]json.RawMessage
	requests int
	// unavailable answers 503 to the first n requests (Kibana starting).
	unavailable int
	// status, when set, is the answer to every request.
	status int
	body   string
}

func (f *fakeKibana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.unavailable > 0 {
		f.unavailable--
		http.Error(w, `{"statusCode":503,"error":"Service Unavailable","message":"Kibana server is not ready yet"}`, http.StatusServiceUnavailable)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	}
	reject := func(status int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg})
	}
	space := "default"
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/s/"); ok {
		space, path, _ = strings.Cut(rest, "/")
		path = "/" + path
	}
	switch {
	case r.Method != http.MethodPost || path != "/api/saved_objects/_import":
		reject(http.StatusNotFound, "Not Found")
		return
	case r.Header.Get("kbn-xsrf") == "":
		reject(http.StatusBadRequest, "Request must contain a kbn-xsrf header.")
		return
	case r.Header.Get("Authorization") != "ApiKey a2V5OnNlY3JldA==":
		reject(http.StatusUnauthorized, "Unauthorized")
		return
	case r.URL.Query().Get("overwrite") != "true":
		reject(http.StatusConflict, "esrule always overwrites")
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		reject(http.StatusUnsupportedMediaType, "want multipart/form-data")
		return
	}
	part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
	if err != nil || part.FormName() != "file" || !strings.HasSuffix(part.FileName(), ".ndjson") {
		reject(http.StatusBadRequest, "[request body.file]: expected value of type [Stream]")
		return
	}
	data, _ := io.ReadAll(part)
	var ok int
	var errs []any
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var o struct{ Type, ID string }
		if json.Unmarshal(line, &o) != nil || o.Type == "" || o.ID == "" {
			errs = append(errs, map[string]any{"id": o.ID, "type": o.Type, "error": map[string]any{"type": "unsupported_type"}})
			continue
		}
		f.objects[space+"/"+o.Type+"/"+o.ID] = append(json.RawMessage(nil), line...)
		ok++
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"success": len(errs) == 0, "successCount": ok, "errors": errs})
}

func newFake(t *testing.T) (*fakeKibana, *Client) {
	t.Helper()
	f := &fakeKibana{t: t, objects: map[string]json.RawMessage{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := &Client{URL: srv.URL + "/", Authorization: "ApiKey a2V5OnNlY3JldA==", AuthSource: "ELASTICSEARCH_API_KEY",
		Backoff: func(int) time.Duration { return 0 }}
	return f, c
}

func TestImportIsIdempotent(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	n := len(parseObjects(t, SavedObjects()))
	for range 2 {
		res, err := c.Import(ctx, "default", SavedObjects())
		require.NoError(t, err)
		require.Equal(t, n, res.SuccessCount)
		require.Len(t, f.objects, n, "a second import overwrites, it adds nothing")
	}
	_, err := c.Import(ctx, "soc", SavedObjects())
	require.NoError(t, err)
	require.Len(t, f.objects, 2*n, "another space gets its own objects (/s/soc/...)")
	require.Contains(t, f.objects, "soc/dashboard/esrule-alerts-dashboard")
}

func TestImportWaitsForKibana(t *testing.T) {
	f, c := newFake(t)
	f.unavailable = 2
	_, err := c.Import(context.Background(), "", SavedObjects())
	require.NoError(t, err)
	require.Equal(t, 3, f.requests)

	f.unavailable = 1 << 30
	ctx, cancel := context.WithCancel(context.Background())
	c.Backoff = func(attempt int) time.Duration {
		if attempt == 3 {
			cancel()
		}
		return 0
	}
	_, err = c.Import(ctx, "", SavedObjects())
	require.ErrorContains(t, err, "status 503")
	require.ErrorIs(t, err, context.Canceled)
}

func TestImportErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong credentials", func(t *testing.T) {
		_, c := newFake(t)
		c.Authorization = "ApiKey d3Jvbmc="
		_, err := c.Import(ctx, "", SavedObjects())
		require.ErrorContains(t, err, "Kibana rejected the credentials (ELASTICSEARCH_API_KEY)")
		require.NotContains(t, err.Error(), "d3Jvbmc=")
	})
	t.Run("not Kibana's base URL", func(t *testing.T) {
		_, c := newFake(t)
		c.URL += "app/kibana"
		_, err := c.Import(ctx, "", SavedObjects())
		require.ErrorContains(t, err, "status 404: no saved-objects import API at /api/saved_objects/_import?overwrite=true")
	})
	t.Run("refused objects are named", func(t *testing.T) {
		_, c := newFake(t)
		_, err := c.Import(ctx, "", append(SavedObjects(), []byte(`{"type":"","id":"x"}`+"\n")...))
		require.ErrorContains(t, err, "7 imported, 1 refused:  x: unsupported_type")
	})
	t.Run("forbidden", func(t *testing.T) {
		f, c := newFake(t)
		f.status, f.body = http.StatusForbidden, `{"statusCode":403,"error":"Forbidden","message":"Unable to bulk_create dashboard"}`
		_, err := c.Import(ctx, "", SavedObjects())
		require.ErrorContains(t, err, "may not import saved objects")
		require.ErrorContains(t, err, "Unable to bulk_create dashboard")
	})
	t.Run("not Kibana at all", func(t *testing.T) {
		f, c := newFake(t)
		f.status, f.body = http.StatusOK, `<html>hello</html>`
		_, err := c.Import(ctx, "", SavedObjects())
		require.ErrorContains(t, err, "is --kibana-url Kibana?")
	})
}
