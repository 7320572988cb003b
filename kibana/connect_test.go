package kibana

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/esclient"
)

func TestKibanaURLIsChecked(t *testing.T) {
	for url, want := range map[string]string{
		"kibana:5601":                       "want http:// or https://",
		"https://elastic:pw@kibana:5601":    "carries credentials",
		"ftp://kibana.example.com/":         "want http:// or https://",
		"https://kibana.example.com/kibana": "",
	} {
		_, err := NewClient(url, esclient.Config{})
		if want == "" {
			require.NoError(t, err, url)
			continue
		}
		require.ErrorContains(t, err, want, url)
		require.False(t, strings.Contains(err.Error(), "pw@"), "no password in %v", err)
	}
}
