package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/esrule/esrule/endpoints"
	"github.com/esrule/esrule/esclient"
)

func TestElasticsearchHostsIsRead(t *testing.T) {
	for _, tc := range []struct {
		name, url, hosts string
		want             []string
		from, err        string
	}{
		{name: "hosts alone", hosts: "http://es:9200", want: []string{"http://es:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "hosts as a YAML list", hosts: `["https://a:9200", "https://b:9200/"]`, want: []string{"https://a:9200", "https://b:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "hosts comma-separated", hosts: "https://a:9200,https://b:9200", want: []string{"https://a:9200", "https://b:9200"}, from: "ELASTICSEARCH_HOSTS"},
		{name: "both, the same", url: "http://es:9200", hosts: "[http://es:9200]", want: []string{"http://es:9200"}, from: "ELASTICSEARCH_URL"},
		{name: "both, different", url: "http://a:9200", hosts: "http://b:9200", err: "ELASTICSEARCH_URL and ELASTICSEARCH_HOSTS are both set, to different URLs: set only ELASTICSEARCH_URL"},
		{name: "hosts empty list", hosts: "[]", err: "ELASTICSEARCH_HOSTS \"[]\" holds no URL: set ELASTICSEARCH_URL"},
		{name: "hosts not a URL", hosts: "es:9200", err: "ELASTICSEARCH_HOSTS: \"es:9200\": want http:// or https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearESEnv(t)
			t.Setenv("ELASTICSEARCH_URL", tc.url)
			t.Setenv("ELASTICSEARCH_HOSTS", tc.hosts)
			s, err := (&esOptions{}).settings()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, s.Addresses)
			require.Equal(t, tc.from, s.AddressSource)
		})
	}
}

// TestUnreachableNamesURLAndSetting: a refused connection names the URL and
// the setting it came from, in errors and in /readyz.
func TestUnreachableNamesURLAndSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	clearESEnv(t)
	t.Setenv("ELASTICSEARCH_HOSTS", "http://"+addr)
	c, err := (&esOptions{}).client()
	require.NoError(t, err)
	_, err = esclient.Call(t.Context(), c, esapi.ClusterHealthRequest{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "Elasticsearch at http://"+addr+" (from ELASTICSEARCH_HOSTS) refused the connection")
	var ue *esclient.UnreachableError
	require.True(t, errors.As(err, &ue))

	r := endpoints.NewReadiness(c, 1, zerolog.Nop(), time.Now)
	r.SetInstalled(fmt.Errorf("check the alerts and state indices of space default: %w", err))
	got := r.Check(t.Context())
	require.ErrorContains(t, got, "refused the connection")
	require.NotContains(t, got.Error(), "not installed")
	ok, text := r.Answer(t.Context())
	require.False(t, ok)
	require.Equal(t, "not ready: Elasticsearch at http://"+addr+" (from ELASTICSEARCH_HOSTS) refused the connection", text,
		"the cause, without the dial error")

	clearESEnv(t)
	c, err = (&esOptions{}).client()
	require.NoError(t, err)
	_, err = esclient.Call(t.Context(), c, esapi.ClusterHealthRequest{})
	if errors.As(err, &ue) { // unless something answers on localhost:9200
		require.Contains(t, err.Error(), "(from the default: none of --es-url, ELASTICSEARCH_URL")
	}
}

func TestVersionJSON(t *testing.T) {
	var out bytes.Buffer
	cmd := newVersionCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--format", "json"})
	require.NoError(t, cmd.Execute())
	var b buildInfo
	require.NoError(t, json.Unmarshal(out.Bytes(), &b))
	require.Equal(t, version, b.Version)
	require.NotEmpty(t, b.Revision)
	require.NotEmpty(t, b.GoVersion)

	cmd = newVersionCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--format", "yaml"})
	require.ErrorContains(t, cmd.Execute(), `--format "yaml": want table or json`)
}
