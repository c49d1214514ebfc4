package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runSimAsync starts runSim and returns the banner fields once it serves.
func runSimAsync(t *testing.T, o simOptions) (banner map[string]string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runSim(ctx, pw, o)
		pw.Close()
	}()
	banner = map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "felhom") && !strings.HasPrefix(line, "export") {
			if _, seen := banner[k]; !seen {
				banner[k] = strings.TrimSpace(v)
			}
		}
		if strings.HasPrefix(line, "serving until") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if _, ok := banner["URL"]; !ok {
		cancel()
		t.Fatalf("no banner; runSim: %v", <-done)
	}
	return banner, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runSim: %v", err)
		}
	}
}

// pinnedClient trusts exactly the certificate with fingerprint fp.
func pinnedClient(fp string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			var parts []string
			for _, b := range sum {
				parts = append(parts, fmt.Sprintf("%02X", b))
			}
			if got := strings.Join(parts, ":"); got != fp {
				return fmt.Errorf("fingerprint %s, want %s", got, fp)
			}
			return nil
		},
	}}}
}

func simCall(t *testing.T, c *http.Client, base, token, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, strings.Fields(base)[0]+"/api2/json"+path, body)
	req.Header.Set("Authorization", "PVEAPIToken="+token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestSimCommandServesAndKeepsState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.yaml")
	o := simOptions{inventory: "../../examples/sim/inventory.yaml", listen: "127.0.0.1:0", state: state}

	banner, stop := runSimAsync(t, o)
	c := pinnedClient(banner["fingerprint"])
	const token = "felhom@pve!reconcile=0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b" // examples/sim/inventory.yaml
	if code, body := simCall(t, c, banner["URL"], token, "GET", "/version", nil); code != 200 || !strings.Contains(body, `"release":"9.1"`) {
		t.Fatalf("version: %d %s", code, body)
	}
	if code, body := simCall(t, c, banner["URL"], token, "PUT", "/nodes/pve1/lxc/103/config", url.Values{"memory": {"768"}}); code != 200 {
		t.Fatalf("set memory: %d %s", code, body)
	}
	stop()

	// Restarted from the state file: the change is still there, with the
	// same token.
	banner, stop = runSimAsync(t, simOptions{listen: "127.0.0.1:0", state: state})
	defer stop()
	c = pinnedClient(banner["fingerprint"])
	code, body := simCall(t, c, banner["URL"], token, "GET", "/nodes/pve1/lxc/103/config", nil)
	if code != 200 || !strings.Contains(body, `"memory":768`) {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

func TestSimCommandRefusesRemoteListen(t *testing.T) {
	err := runSim(context.Background(), io.Discard, simOptions{inventory: "../../examples/sim/inventory.yaml", listen: "0.0.0.0:8006"})
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("got %v", err)
	}
	if code := exitCode(context.Background(), err, io.Discard); code != exitInvalid {
		t.Fatalf("exit code %d, want %d", code, exitInvalid)
	}
}

// TestSimCommandListen (issue 16 item 7): the default port is not
// pveproxy's 8006, and an address that cannot be taken fails loudly: a
// non-zero exit and a message on stderr that names the address and the way
// out.
func TestSimCommandListen(t *testing.T) {
	if _, port, _ := net.SplitHostPort(defaultSimListen); port == "8006" {
		t.Fatalf("default %s clashes with pveproxy", defaultSimListen)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = runSim(context.Background(), io.Discard, simOptions{inventory: "../../examples/sim/inventory.yaml", listen: l.Addr().String()})
	var stderr strings.Builder
	if code := exitCode(context.Background(), err, &stderr); code == exitOK {
		t.Fatal("sim on a taken port exited 0")
	}
	if msg := stderr.String(); !strings.Contains(msg, "cannot listen on "+l.Addr().String()) || !strings.Contains(msg, "--listen") {
		t.Errorf("stderr %q", msg)
	}
}
