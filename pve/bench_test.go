package pve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkPending measures the client's own cost per call: one GET over a
// kept-alive TLS connection to a local server, and decoding a pending list
// of a typical container (30 keys).
func BenchmarkPending(b *testing.B) {
	var entries []string
	for i := range 30 {
		entries = append(entries, fmt.Sprintf(`{"key":"mp%d","value":"local-lvm:vm-100-disk-%d,mp=/srv/%d,size=8G"}`, i, i, i))
	}
	entries = append(entries, `{"key":"digest","value":"0123456789abcdef0123456789abcdef01234567"}`)
	body := []byte(`{"data":[` + strings.Join(entries, ",") + `]}`)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret}, WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.Pending(ctx, "pve", 100)
		if err != nil || len(p.Entries) != 30 {
			b.Fatal(err)
		}
	}
	if conns.Load() > 1 {
		b.Errorf("%d connections for %d calls: keep-alive is not working", conns.Load(), b.N)
	}
}
