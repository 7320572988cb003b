package esclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/stretchr/testify/require"
)

// testCert is a certificate with its key.
type testCert struct {
	der  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func (c testCert) fingerprint() string { return hex.EncodeToString(fingerprint(c.cert)) }

func (c testCert) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der}))
}

var serial atomic.Int64

// newCert makes a certificate signed by parent (self-signed when nil).
func newCert(t *testing.T, name string, isCA bool, parent *testCert, ips ...net.IP) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: ips, BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testCert{der: der, cert: c, key: key}
}

// pinServer is an Elasticsearch stand-in over TLS presenting chain and
// counting the requests that reached it with an Authorization header.
type pinServer struct {
	*httptest.Server
	withAuth atomic.Int32
}

func newPinServer(t *testing.T, key *ecdsa.PrivateKey, chain ...testCert) *pinServer {
	t.Helper()
	s := &pinServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			s.withAuth.Add(1)
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		_, _ = w.Write([]byte(`{"status":"green"}`))
	}))
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.der)
	}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: ders, PrivateKey: key}}}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *pinServer) health(t *testing.T, fingerprint, caPEM string) error {
	t.Helper()
	in := Inputs{
		URL:         Value{V: s.URL, From: "ELASTICSEARCH_URL", Rank: 1},
		Username:    Value{V: "esrule", From: "ELASTICSEARCH_USERNAME", Rank: 1},
		Password:    Value{V: "s3cret-password", From: "ELASTICSEARCH_PASSWORD", Rank: 1},
		Fingerprint: Value{V: fingerprint, From: "ELASTICSEARCH_CA_FINGERPRINT", Rank: 1},
	}
	if caPEM != "" {
		p := filepath.Join(t.TempDir(), "ca.crt")
		require.NoError(t, os.WriteFile(p, []byte(caPEM), 0o600))
		in.CA = Value{V: p, From: "ELASTICSEARCH_CA_CERT", Rank: 1}
	}
	cfg, err := Resolve(in)
	require.NoError(t, err)
	cfg.MaxRetries = -1
	c, err := New(cfg)
	require.NoError(t, err)
	_, err = Call(context.Background(), c, esapi.ClusterHealthRequest{})
	return err
}

func TestPinning(t *testing.T) {
	loopback := net.ParseIP("127.0.0.1")
	ca := newCert(t, "esrule test CA", true, nil)
	leaf := newCert(t, "es node", false, &ca, loopback)
	forged := newCert(t, "impostor", false, nil, loopback) // self-signed
	otherHost := newCert(t, "other node", false, &ca, net.ParseIP("192.0.2.9"))

	t.Run("forged chain: self-signed leaf plus the real CA", func(t *testing.T) {
		s := newPinServer(t, forged.key, forged, ca)
		err := s.health(t, ca.fingerprint(), "")
		require.ErrorContains(t, err, "names the pinned certificate but does not verify up to it")
		require.True(t, IsSetupError(err))
		require.Zero(t, s.withAuth.Load(), "no credential reached the impostor")
	})
	t.Run("CA pin, genuine chain presented", func(t *testing.T) {
		s := newPinServer(t, leaf.key, leaf, ca)
		require.NoError(t, s.health(t, ca.fingerprint(), ""))
		require.EqualValues(t, 1, s.withAuth.Load())
	})
	t.Run("CA pin, genuine chain for another host", func(t *testing.T) {
		s := newPinServer(t, otherHost.key, otherHost, ca)
		require.ErrorContains(t, s.health(t, ca.fingerprint(), ""), "does not verify up to it")
		require.Zero(t, s.withAuth.Load())
	})
	t.Run("leaf pin", func(t *testing.T) {
		s := newPinServer(t, leaf.key, leaf)
		require.NoError(t, s.health(t, leaf.fingerprint(), ""))
	})
	t.Run("CA pin, node presents only its leaf", func(t *testing.T) {
		s := newPinServer(t, leaf.key, leaf)
		err := s.health(t, ca.fingerprint(), "")
		require.ErrorContains(t, err, "matches the pinned fingerprint")
		require.ErrorContains(t, err, "together with ELASTICSEARCH_CA_CERT naming that CA's PEM")
		require.Zero(t, s.withAuth.Load())
	})
	t.Run("CA pin with the CA file, node presents only its leaf", func(t *testing.T) {
		s := newPinServer(t, leaf.key, leaf)
		other := newCert(t, "another CA in the same file", true, nil)
		require.NoError(t, s.health(t, ca.fingerprint(), other.pem()+ca.pem()))
		require.EqualValues(t, 1, s.withAuth.Load())
	})
	t.Run("CA pin with the CA file, forged leaf", func(t *testing.T) {
		s := newPinServer(t, forged.key, forged, ca)
		require.ErrorContains(t, s.health(t, ca.fingerprint(), ca.pem()), "signed by unknown authority")
		require.Zero(t, s.withAuth.Load())
	})
	t.Run("CA pin picks one CA of the file", func(t *testing.T) {
		other := newCert(t, "another CA", true, nil)
		trusted := newCert(t, "node of the other CA", false, &other, loopback)
		s := newPinServer(t, trusted.key, trusted)
		require.ErrorContains(t, s.health(t, ca.fingerprint(), other.pem()+ca.pem()), "signed by unknown authority",
			"only the CA with the fingerprint is trusted")
	})
	t.Run("fingerprint not in the CA file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "ca.crt")
		require.NoError(t, os.WriteFile(p, []byte(ca.pem()), 0o600))
		_, err := Resolve(Inputs{
			URL:         Value{V: "https://es:9200", From: "ELASTICSEARCH_URL", Rank: 1},
			CA:          Value{V: p, From: "ELASTICSEARCH_CA_CERT", Rank: 1},
			Fingerprint: Value{V: leaf.fingerprint(), From: "ELASTICSEARCH_CA_FINGERPRINT", Rank: 1},
		})
		require.ErrorContains(t, err, "ELASTICSEARCH_CA_FINGERPRINT and ELASTICSEARCH_CA_CERT: no certificate of the CA file has the pinned fingerprint")
	})
}
