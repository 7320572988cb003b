package notify

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testSecrets() Secrets {
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/tok3n", "HOOK_AUTH": "Bearer s3cret"}
	files := map[string]string{"/run/secrets/hook": "https://siem.example.com/ingest?token=f1le\n"}
	return Secrets{
		LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
		},
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
interval = "15s"
max_age = "12h"
batch_size = 50

[[action]]
name = "soc-slack"
type = "slack"
url_env = "SLACK_WEBHOOK_URL"
link_template = "https://kibana.example.com/app/security/alerts/redirect/{{.AlertID}}"

[[action]]
name = "siem"
type = "webhook"
rules = ["okta-proxy"]
url_file = "/run/secrets/hook"
timeout = "5s"
rate = 2.5
max_in_flight = 2
max_attempts = 20
headers = { "X-Source" = "esrule" }
headers_env = { "Authorization" = "HOOK_AUTH" }
`), testSecrets())
	require.NoError(t, err)
	require.Equal(t, Config{
		Interval: 15 * time.Second, MaxAge: 12 * time.Hour, BatchSize: 50,
		Actions: []Action{
			{Name: "soc-slack", Type: TypeSlack, URL: "https://hooks.slack.com/services/T0/B0/tok3n", Headers: map[string]string{},
				LinkTemplate: "https://kibana.example.com/app/security/alerts/redirect/{{.AlertID}}"},
			{Name: "siem", Type: TypeWebhook, Rules: []string{"okta-proxy"}, URL: "https://siem.example.com/ingest?token=f1le",
				Headers: map[string]string{"X-Source": "esrule", "Authorization": "Bearer s3cret"},
				Timeout: 5 * time.Second, Rate: 2.5, MaxInFlight: 2, MaxAttempts: 20},
		},
	}, cfg)
}

func TestParseConfigReportsEveryProblemWithoutSecrets(t *testing.T) {
	_, err := ParseConfig([]byte(`
colour = "red"
intervall = "1m"

[[action]]
name = "a.b"
type = "email"
url = "https://hooks.example.com/tok3n"
link_template = "{{.Broken"

[[action]]
name = "b"
type = "webhook"
url_env = "MISSING_URL"

[[action]]
name = "c"
type = "webhook"
url_env = "SLACK_WEBHOOK_URL"
url_file = "/run/secrets/hook"
headers_file = { "Authorization" = "/nope" }

[[action]]
name = "d"
type = "slack"
url_env = "HOOK_AUTH"
`), testSecrets())
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"unknown keys: colour, intervall (did you mean interval?)",
		`action "a.b": name must be`,
		`action "a.b": type "email"`,
		`action "a.b": link_template`,
		`action "b": url: environment variable MISSING_URL is not set`,
		`action "c": set exactly one of url, url_env and url_file`,
		`action "c": header Authorization: read secret file /nope`,
		`action "d": url must be an absolute http or https URL (value not shown)`,
	} {
		require.Contains(t, msg, want)
	}
	for _, secret := range []string{"tok3n", "s3cret", "f1le"} {
		require.NotContains(t, msg, secret)
	}
}

func TestParseConfigSyntaxError(t *testing.T) {
	_, err := ParseConfig([]byte("[[action]\nname = 1"), Secrets{})
	require.ErrorContains(t, err, "parse actions file")
	var none *SendError
	require.False(t, errors.As(err, &none))
}
