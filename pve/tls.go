package pve

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// parseFingerprint accepts a SHA-256 fingerprint as PVE prints it
// (AA:BB:...) or as plain hex, in either case. Its error does not show s
// (the caller shows it as Config.shown allows).
func parseFingerprint(s string) ([]byte, error) {
	h := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("want the 32-byte SHA-256 of the certificate as AA:BB:... or hex")
	}
	return b, nil
}

// ErrFingerprintMismatch is returned (wrapped) when the server's certificate
// does not match the pinned fingerprint.
var ErrFingerprintMismatch = errors.New("server certificate does not match the pinned fingerprint")

// tlsConfig builds the TLS settings for cfg:
//   - Fingerprint: the leaf certificate must hash to it. Chain and name are
//     not checked, because PVE's certificates are self-signed or signed by the
//     cluster's own CA; the pin is a stronger check. InsecureSkipVerify is set
//     only so that Go hands the certificate to VerifyConnection, which always
//     runs (also on resumed sessions) and enforces the pin.
//   - CAFile: the chain must lead to a CA in that file, and the name must match.
//   - neither: the system roots.
//   - Insecure: no verification at all (New logs a warning).
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cfg.Fingerprint != "":
		want, err := parseFingerprint(cfg.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("config: fingerprint %q: %w", cfg.shown(cfg.Fingerprint), err)
		}
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrFingerprintMismatch
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("%w: got %s", ErrFingerprintMismatch, FormatFingerprint(got[:]))
			}
			return nil
		}
	case cfg.CAFile != "":
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("config: ca_file %s: %w", cfg.shown(cfg.CAFile), pathErrorCause(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config: ca_file %s: no PEM certificates", cfg.shown(cfg.CAFile))
		}
		tc.RootCAs = pool
	case cfg.Insecure:
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}

// FormatFingerprint prints a SHA-256 digest as PVE does: upper-case hex
// pairs joined by ':' (95 characters), the form `pvenode cert info` prints
// and Config.Fingerprint accepts. Use it for a digest already computed; for a
// certificate use CertFingerprint. Errors about a pin mismatch print the
// server's fingerprint this way too, so a user can compare it with PVE's.
func FormatFingerprint(sum []byte) string {
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// CertFingerprint returns the SHA-256 fingerprint of a DER certificate in
// PVE's AA:BB:... form: the value to put in Config.Fingerprint to pin that
// certificate. der is the leaf certificate's raw bytes, e.g.
// tls.Certificate.Certificate[0] or x509.Certificate.Raw. Anything that
// serves a certificate for this client to pin (the simulator, tests, a
// setup tool) should publish its fingerprint with this function rather than
// format the digest itself, so that both sides agree on one form.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return FormatFingerprint(sum[:])
}
