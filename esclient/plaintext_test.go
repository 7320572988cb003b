package esclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"
)

// TestNoUserinfoInErrors: a password inside a URL, well-formed or not, is
// never in an error.
func TestNoUserinfoInErrors(t *testing.T) {
	for _, a := range []string{
		"https://esrule:S3CRETPW@es:9200", "esrule:S3CRETPW@es:9200", "https:/esrule:S3CRETPW@es", "https//esrule:S3CRETPW@es",
		"ftp://esrule:S3CRETPW@es", "https://esrule:S3CRETPW@", "esrule:S3CRETPW@", "http://a@b:S3CRETPW@es:9200",
		"https://es:9200,user:S3CRETPW@other:9200",
	} {
		_, err := ParseAddresses(a, "ELASTICSEARCH_URL")
		require.Error(t, err, a)
		require.NotContains(t, err.Error(), "S3CRETPW", a)
		require.NotContains(t, err.Error(), "esrule:", a)
		_, err = Resolve(Inputs{URL: Value{V: a, From: "ELASTICSEARCH_URL", Rank: 1}})
		require.Error(t, err, a)
		require.NotContains(t, err.Error(), "S3CRETPW", a)
		_, err = New(Config{Addresses: []string{a}})
		if err != nil {
			require.NotContains(t, err.Error(), "S3CRETPW", a)
		}
	}
	require.Equal(t, "https:/[redacted]@es", RedactAddress("https:/u:pw@es"))
	require.Equal(t, "[redacted]@es:9200", RedactAddress("user:pw@es:9200"))
	require.Equal(t, "https://es:9200", RedactAddress("https://u:pw@es:9200"))
}

func TestPlaintextCredentials(t *testing.T) {
	resolve := func(url string, allow bool) (Config, error) {
		return Resolve(Inputs{
			URL:      Value{V: url, From: "ELASTICSEARCH_URL", Rank: 1},
			APIKey:   Value{V: "aWQ6a2V5", From: "ELASTICSEARCH_API_KEY", Rank: 1},
			Username: Value{Rank: 3}, Password: Value{Rank: 3},
			AllowHTTP: allow,
		})
	}
	_, err := resolve("http://es.example.com:9200", false)
	require.ErrorContains(t, err, "ELASTICSEARCH_URL: http://es.example.com:9200 would carry the credentials from ELASTICSEARCH_API_KEY in clear text: use https://, or set --es-allow-http")
	_, err = resolve("https://es.example.com:9200,http://10.0.0.1:9200", false)
	require.ErrorContains(t, err, "http://10.0.0.1:9200 would carry the credentials")
	cfg, err := resolve("http://es.example.com:9200", true)
	require.NoError(t, err)
	require.Equal(t, []string{"http://es.example.com:9200"}, PlaintextCredentials(cfg))
	for _, loopback := range []string{"http://localhost:9200", "http://127.0.0.1:9200", "http://[::1]:9200", "http://127.3.4.5:9200", ""} {
		cfg, err := resolve(loopback, false)
		require.NoError(t, err, loopback)
		require.NotEmpty(t, PlaintextCredentials(cfg), "warned about: %s", loopback)
	}
	cfg, err = Resolve(Inputs{URL: Value{V: "http://es.example.com:9200", From: "ELASTICSEARCH_URL", Rank: 1}})
	require.NoError(t, err, "no credentials, nothing to protect")
	require.Empty(t, PlaintextCredentials(cfg))
	cfg, err = resolve("https://es.example.com:9200", false)
	require.NoError(t, err)
	require.Empty(t, PlaintextCredentials(cfg))
}

// TestHTTPToTLSNode: an http:// URL to a node that speaks TLS fails after one
// request with a message that says so, and is not retried.
func TestHTTPToTLSNode(t *testing.T) {
	// Like Elasticsearch with TLS on HTTP: a handshake or nothing.
	cert := newCert(t, "es node", false, nil, net.ParseIP("127.0.0.1"))
	tlsLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{cert.der}, PrivateKey: cert.key}}})
	require.NoError(t, err)
	defer tlsLn.Close()
	var plaintext atomic.Int32
	go func() {
		for {
			conn, err := tlsLn.Accept()
			if err != nil {
				return
			}
			if conn.(*tls.Conn).Handshake() != nil {
				plaintext.Add(1)
			}
			_ = conn.Close()
		}
	}()
	c, err := New(Config{Addresses: []string{"http://" + tlsLn.Addr().String()}, Username: "esrule", Password: "pw", PasswordSource: "ELASTICSEARCH_PASSWORD"})
	require.NoError(t, err)
	var attempts atomic.Int32
	c.cfg.Observe = func(*http.Request, int, time.Duration) { attempts.Add(1) }
	_, err = Call(context.Background(), c, esapi.ClusterHealthRequest{})
	require.ErrorContains(t, err, "this node speaks TLS: use https:// in ELASTICSEARCH_URL")
	require.True(t, IsSetupError(err))
	require.EqualValues(t, 1, attempts.Load(), "no retry in clear text")
	require.EqualValues(t, 1, plaintext.Load(), "one plaintext request, then the probe's handshake")

	// A plain HTTP node that closes the connection is not mistaken for TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	c, err = New(Config{Addresses: []string{"http://" + ln.Addr().String()}, MaxRetries: -1})
	require.NoError(t, err)
	_, err = Call(context.Background(), c, esapi.ClusterHealthRequest{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "speaks TLS")
	var tlsErr tls.RecordHeaderError
	require.False(t, errors.As(err, &tlsErr))
}
