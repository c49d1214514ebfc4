package pve_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/felhom/felhom/pve"
)

// A server publishes its certificate's fingerprint with CertFingerprint, and
// a client pins it through Config.Fingerprint.
func ExampleCertFingerprint() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{"version":"9.1.2","release":"9.1"}}`)
	}))
	defer srv.Close()

	pin := pve.CertFingerprint(srv.Certificate().Raw) // "AA:BB:...", as `pvenode cert info` prints it
	c, err := pve.New(pve.Config{URL: srv.URL, TokenID: "felhom@pve!ops", TokenSecret: "s3cret", Fingerprint: pin})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Version(context.Background())
	fmt.Println(v.Version, err, len(pin))
	// Output: 9.1.2 <nil> 95
}

func ExampleFormatFingerprint() {
	sum := sha256.Sum256([]byte("felhom"))
	fmt.Println(pve.FormatFingerprint(sum[:4]))
	// Output: C3:2C:DB:18
}
