package estest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TLSServer is the kit's fake Elasticsearch served over TLS with a
// self-signed certificate, answering every request with one reply; it
// counts TLS connections.
type TLSServer struct {
	*httptest.Server
	// ES is the transport behind the server (its routes and requests).
	ES    *Transport
	conns atomic.Int32
}

// NewTLSServer starts a TLSServer answering every request with status and
// body; it is closed when the test ends.
func NewTLSServer(t testing.TB, status int, body string) *TLSServer {
	t.Helper()
	s := &TLSServer{ES: NewTransport()}
	s.ES.On("", "/**", JSON(status, body))
	s.Server = httptest.NewUnstartedServer(s.ES)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// Conns is the number of TLS connections opened so far.
func (s *TLSServer) Conns() int32 { return s.conns.Load() }

// Requests is the number of requests that reached the server.
func (s *TLSServer) Requests() int { return len(s.ES.Requests()) }

// AuthHeader is the Authorization header of the last request.
func (s *TLSServer) AuthHeader() string {
	reqs := s.ES.Requests()
	if len(reqs) == 0 {
		return ""
	}
	return reqs[len(reqs)-1].Header.Get("Authorization")
}

// CAPEM is the server's certificate in PEM, to trust as a CA.
func (s *TLSServer) CAPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
}

// Fingerprint is the hex SHA-256 of the server's certificate.
func (s *TLSServer) Fingerprint() string {
	sum := sha256.Sum256(s.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}
