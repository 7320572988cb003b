package esclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"
)

// Certificate pinning (ELASTICSEARCH_CA_FINGERPRINT), designed so that no
// server can pass by presenting a certificate it does not hold the key of:
//
//   - The fingerprint of the leaf (the certificate the server proves it holds
//     the key of in the handshake) is trusted as it is, without a CA or host
//     name check: the pin names exactly one key.
//   - The fingerprint of another certificate of the presented chain (a CA)
//     is trusted only when the leaf verifies up to that certificate, with
//     signature, validity and host name checks, and the pinned certificate
//     as the only root. A self-signed leaf with the real CA appended fails.
//   - A node that presents only its leaf (as Elasticsearch does by default)
//     cannot be pinned by its CA's fingerprint alone: the CA is not in the
//     handshake. Give the CA's PEM too (ELASTICSEARCH_CA_CERT): Resolve keeps
//     only the certificate of that file with the fingerprint, and the chain
//     is verified against it as the only root.

// errChainNotPinned is a presented chain that names the pinned certificate
// but does not verify up to it.
type errChainNotPinned struct{ err error }

func (e *errChainNotPinned) Error() string {
	return "the presented chain does not verify up to the pinned certificate: " + e.err.Error()
}

func (e *errChainNotPinned) Unwrap() error { return e.err }

func fingerprint(c *x509.Certificate) []byte {
	sum := sha256.Sum256(c.Raw)
	return sum[:]
}

// pinnedDialer dials TLS with verifyPinned checking the host dialed: the
// connection state carries no server name for an IP address.
func pinnedDialer(base *tls.Config, pin []byte, now func() time.Time) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		tc := base.Clone()
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		tc.VerifyConnection = verifyPinned(pin, now, host)
		return (&tls.Dialer{Config: tc}).DialContext(ctx, network, addr)
	}
}

// verifyPinned returns the VerifyConnection of a pin without a CA file: host
// is the host name or IP the chain must be valid for (the connection's
// server name when empty). now is the time certificates are checked at.
func verifyPinned(pin []byte, now func() time.Time, host string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		name := host
		if name == "" {
			name = cs.ServerName
		}
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errFingerprintMismatch
		}
		if bytes.Equal(fingerprint(certs[0]), pin) {
			return nil
		}
		for i, c := range certs[1:] {
			if !bytes.Equal(fingerprint(c), pin) {
				continue
			}
			roots := x509.NewCertPool()
			roots.AddCert(c)
			intermediates := x509.NewCertPool()
			for j, other := range certs[1:] {
				if j != i {
					intermediates.AddCert(other)
				}
			}
			_, err := certs[0].Verify(x509.VerifyOptions{
				Roots: roots, Intermediates: intermediates, DNSName: name, CurrentTime: now(),
			})
			if err != nil {
				return &errChainNotPinned{err}
			}
			return nil
		}
		return errFingerprintMismatch
	}
}

// pinnedCAs returns the PEM of the certificates of caPEM whose SHA-256
// fingerprint is pin, or an error when there is none.
func pinnedCAs(caPEM, pin []byte) ([]byte, error) {
	var out []byte
	rest := caPEM
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		if bytes.Equal(fingerprint(c), pin) {
			out = append(out, pem.EncodeToMemory(block)...)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate of the CA file has the pinned fingerprint")
	}
	return out, nil
}

// pinHint completes a fingerprint mismatch message.
const pinHint = "check ELASTICSEARCH_CA_FINGERPRINT or --es-ca-fingerprint; a node that presents only its own certificate " +
	"is pinned by the CA's fingerprint only together with ELASTICSEARCH_CA_CERT naming that CA's PEM"

func pinChainMessage(host string, err *errChainNotPinned) string {
	return fmt.Sprintf("TLS: the certificate of %s names the pinned certificate but does not verify up to it (%v): refused before any credential was sent", host, err.err)
}
