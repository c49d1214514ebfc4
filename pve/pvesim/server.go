package pvesim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/felhom/felhom/pve"
)

// Server is the simulator served over HTTPS with a self-signed certificate.
type Server struct {
	// URL is the base URL, e.g. "https://127.0.0.1:8006" (the API is under
	// /api2/json).
	URL string
	// Fingerprint is the SHA-256 fingerprint of the server's certificate in
	// PVE's form, "AA:BB:...".
	Fingerprint string
	// CertPEM is the server's certificate, for clients that want a CA file.
	CertPEM []byte

	sim *Sim
	srv *http.Server

	mu sync.Mutex
	// fresh holds the connections that have not sent a request yet
	// (http.StateNew); closing is set once Close has closed them.
	fresh   map[net.Conn]bool
	closing bool
}

// StartTLS serves the simulator on a random loopback port.
func (s *Sim) StartTLS() (*Server, error) { return s.ListenAndServeTLS("127.0.0.1:0") }

// ListenAndServeTLS serves the simulator on addr with a freshly generated
// self-signed certificate (ECDSA P-256, valid for the listen host,
// localhost and 127.0.0.1) and returns once it accepts connections. Like
// pveproxy it speaks HTTP/1.1 only.
func (s *Sim) ListenAndServeTLS(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen %q: %w", addr, err)
	}
	cert, certPEM, err := selfSigned(host)
	if err != nil {
		return nil, fmt.Errorf("sim: certificate: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	srv := &http.Server{
		Handler:   s.Handler(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		// An empty TLSNextProto map disables HTTP/2, as pveproxy has none.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		// pveproxy closes idle keep-alive connections after about 5 s.
		IdleTimeout: 5 * time.Second,
		ErrorLog:    log.New(serverLog{w: s.serverLog}, "", log.LstdFlags),
	}
	server := &Server{
		URL:         "https://" + ln.Addr().String(),
		Fingerprint: pve.CertFingerprint(cert.Certificate[0]),
		CertPEM:     certPEM,
		sim:         s,
		srv:         srv,
		fresh:       map[net.Conn]bool{},
	}
	s.mu.Lock()
	s.fingerprint = server.Fingerprint
	s.mu.Unlock()
	srv.ConnState = server.connState
	srv.RegisterOnShutdown(server.closeFresh)
	tlsLn := tls.NewListener(ln, srv.TLSConfig)
	go func() { _ = srv.Serve(tlsLn) }()
	return server, nil
}

// Sim returns the simulator the server serves.
func (srv *Server) Sim() *Sim { return srv.sim }

// Close stops the server and the simulator. Requests in flight finish
// (the simulator's hanging faults end at once); connections waiting for a
// request are closed. After 2 s the connections still busy are cut and
// Close returns an error wrapping context.DeadlineExceeded.
func (srv *Server) Close() error {
	srv.sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.srv.Shutdown(ctx); err != nil {
		_ = srv.srv.Close()
		return fmt.Errorf("sim: shutdown: %w", err)
	}
	return nil
}

// connState tracks the connections that have not sent a request yet.
// http.Server.Shutdown closes idle keep-alive connections at once but
// waits for a new one until it is 5 s old (a client such as Go's transport
// may dial connections it then never uses), so closeFresh closes those,
// and one accepted while Close runs is closed here.
func (srv *Server) connState(c net.Conn, st http.ConnState) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch {
	case st != http.StateNew:
		delete(srv.fresh, c)
	case srv.closing:
		_ = c.Close()
	default:
		srv.fresh[c] = true
	}
}

// closeFresh closes the connections that have not sent a request; Shutdown
// calls it once its listener is closed.
func (srv *Server) closeFresh() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.closing = true
	for c := range srv.fresh {
		_ = c.Close()
	}
}

// hangUpRE matches what net/http logs when a client closes or resets its
// connection during the TLS handshake, or Close closes one that never
// finished it (a probe, a client that gave up, an unused dialled
// connection): not a server error.
var hangUpRE = regexp.MustCompile(`http: TLS handshake error from \S+: (?:EOF|.*(?:connection reset by peer|use of closed network connection))\n?$`)

// serverLog is the HTTPS server's error log: lines about clients hanging up
// go to slog at debug level, every other line to w (os.Stderr when nil).
type serverLog struct{ w io.Writer }

func (l serverLog) Write(p []byte) (int, error) {
	if hangUpRE.Match(p) {
		slog.Debug("sim: client hung up", "log", strings.TrimSpace(string(p)))
		return len(p), nil
	}
	w := l.w
	if w == nil {
		w = os.Stderr
	}
	return w.Write(p)
}

func selfSigned(host string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "felhom sim", Organization: []string{"felhom PVE simulator"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if host != "" && ip == nil {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}
