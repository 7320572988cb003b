package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/esrule/esrule/internal/estest"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esconfig"
	"github.com/esrule/esrule/kibana"
)

// TestSetupImportsSavedObjects runs the import of setup --kibana-url against
// a fake of the saved-objects API: the Elasticsearch API key authenticates,
// the space selects the path, and the whole NDJSON is the file part.
func TestSetupImportsSavedObjects(t *testing.T) {
	estest.ClearESEnv(t)
	t.Setenv("ELASTICSEARCH_API_KEY", estest.APIKeyID+":"+estest.APIKeyKey)
	var gotPath, gotAuth string
	var gotFile []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.RequestURI(), r.Header.Get("Authorization")
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		require.NoError(t, err)
		part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
		require.NoError(t, err)
		gotFile, _ = io.ReadAll(part)
		n := bytes.Count(gotFile, []byte("\n"))
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "successCount": n, "errors": []any{}})
	}))
	defer srv.Close()

	var out bytes.Buffer
	g := &globalOptions{es: esconfig.Options{LookupEnv: os.LookupEnv}}
	require.NoError(t, importSavedObjects(context.Background(), g, srv.URL+"/", "soc", time.Minute, &out))
	require.Equal(t, "/s/soc/api/saved_objects/_import?overwrite=true", gotPath)
	require.Equal(t, "ApiKey "+estest.APIKey(), gotAuth)
	require.Equal(t, kibana.SavedObjects(), gotFile)
	require.Contains(t, out.String(), "7 imported")
	estest.RequireNoSecrets(t, out.String())
}
