package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/daemon"
	"github.com/felhom/felhom/spec/source"
)

// syncBuffer is a buffer written by a process's output and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runningDaemon is felhom daemon started by a test.
type runningDaemon struct {
	t   *testing.T
	cmd *exec.Cmd
	log *syncBuffer
	url string
}

var listenRE = regexp.MustCompile(`"msg":"daemon started".*"listen":"([^"]+)"`)

// startDaemon runs the binary's daemon with args against e's simulator and
// waits until it listens.
func (e *e2e) startDaemon(args ...string) *runningDaemon {
	e.t.Helper()
	cmd := exec.Command(felhomBin, append([]string{"daemon", "--listen", "127.0.0.1:0", "--state-dir", e.t.TempDir()}, args...)...)
	cmd.Env = e.env
	d := &runningDaemon{t: e.t, cmd: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if e.t.Failed() {
			e.t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	d.waitFor("the daemon to listen", func() bool {
		m := listenRE.FindStringSubmatch(d.log.String())
		if m != nil {
			d.url = "http://" + m[1]
		}
		return m != nil
	})
	return d
}

// waitFor polls cond every 20 ms, for up to a minute (progress of another
// process; nothing here is timed).
func (d *runningDaemon) waitFor(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s", what)
		}
		if d.cmd.ProcessState != nil {
			d.t.Fatalf("the daemon exited while waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *runningDaemon) status() daemon.Status {
	d.t.Helper()
	resp, err := http.Get(d.url + "/status")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st daemon.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		d.t.Fatal(err)
	}
	return st
}

func (d *runningDaemon) ctState(vmid int) daemon.State {
	for _, c := range d.status().Containers {
		if c.VMID == vmid {
			return c.State
		}
	}
	return ""
}

func confValue(t *testing.T, sim *pvesim.Sim, vmid int, key string) string {
	t.Helper()
	v, _ := simConf(t, sim, vmid).Get(key)
	return v
}

// The daemon end to end, the built binary against a simulator over HTTPS,
// on a watched folder: a change is applied (the time from the write to the
// applied change is logged), a hand change is reverted at the next resync,
// a broken spec changes nothing and is reported while the last good
// revision stays, the fixing change resumes, and SIGTERM during a task
// waits for it, leaves no lock and exits 0.
func TestE2EDaemon(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM")
	}
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	writeSpec(t, dir, "db.yaml", "db", "pve2", 201, "cores: 2\n")
	d := e.startDaemon("--source-dir", dir, "--resync", "2s", "--log-format", "json")
	d.waitFor("the first apply", func() bool {
		return confValue(t, e.sim, 101, "memory") == "2048" && d.ctState(101) == daemon.StateSynced
	})
	if resp, err := http.Get(d.url + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", err, resp)
	}

	pushed := time.Now()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 3G\n")
	d.waitFor("the change", func() bool { return confValue(t, e.sim, 101, "memory") == "3072" })
	t.Logf("folder write to applied: %s (the source's 500 ms quiet period and the simulator's task times included)", time.Since(pushed).Round(time.Millisecond))

	if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"memory": "512"}}); err != nil {
		t.Fatal(err)
	}
	d.waitFor("the hand change to be reverted", func() bool { return confValue(t, e.sim, 101, "memory") == "3072" })

	good := d.status().Revision
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 4G\ncores: many\n")
	d.waitFor("the broken spec to be reported", func() bool { return d.status().Invalid != nil })
	st := d.status()
	if st.Revision != good || len(st.Invalid.Errors) != 1 || !strings.HasPrefix(st.Invalid.Errors[0], "web.yaml:9:10: error:") {
		t.Errorf("status under a broken spec: %+v", st)
	}
	if !strings.Contains(d.log.String(), `"msg":"invalid revision: not applied"`) {
		t.Error("the log does not report the invalid revision")
	}
	if v := confValue(t, e.sim, 101, "memory"); v != "3072" {
		t.Errorf("memory %s under a broken spec", v)
	}
	resp, err := http.Get(d.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(metrics, []byte("felhom_revision_invalid 1\n")) {
		t.Error("metrics lack felhom_revision_invalid 1")
	}
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 4G\n")
	d.waitFor("the fixing change", func() bool { return confValue(t, e.sim, 101, "memory") == "4096" && d.status().Invalid == nil })

	// SIGTERM while a snapshot task runs: the task is awaited, no lock is
	// left, the exit code is 0.
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Duration: 1500 * time.Millisecond})
	tasks := strings.Count(d.log.String(), `"msg":"apply: task"`)
	writeSpec(t, dir, "db.yaml", "db", "pve2", 201, "cores: 3\n")
	d.waitFor("the snapshot task", func() bool { return strings.Count(d.log.String(), `"msg":"apply: task"`) > tasks })
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v", err)
	}
	if lock := confValue(t, e.sim, 201, "lock"); lock != "" {
		t.Errorf("lock %q left behind", lock)
	}
	if !strings.Contains(d.log.String(), `"msg":"stopped"`) {
		t.Error("the log does not say it stopped")
	}
	for _, secret := range []string{"0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b"} {
		if strings.Contains(d.log.String(), secret) {
			t.Error("the token secret is in the log")
		}
	}
}

func TestParseDaemonConfig(t *testing.T) {
	good, err := os.ReadFile(repoRoot + "/examples/daemon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseDaemonConfig(good)
	if err != nil || c.Source.Git == nil || c.Listen != defaultListen || c.Mode != daemon.ModeApply {
		t.Errorf("examples/daemon.yaml: %v, %+v", err, c)
	}
	for _, tc := range []struct{ yaml, err string }{
		{"source:\n  dir:\n    path: /srv/specs\nlisten: 127.0.0.1:1\n", ""},
		{"listen: 127.0.0.1:1\n", "source: name one of dir: or git:"},
		{"source:\n  dir:\n    path: x\nmode: yolo\n", `mode "yolo": must be apply or plan`},
		{"source:\n  dir:\n    path: x\non_failure: retry\n", `on_failure "retry": must be rollback or leave`},
		{"source:\n  dir:\n    path: x\nresync: often\n", "often"},
		{"source:\n  dir:\n    path: x\nlisten_addr: x\n", "listen_addr"},
	} {
		_, err := parseDaemonConfig([]byte(tc.yaml))
		if got := fmt.Sprint(err); tc.err == "" && err != nil || tc.err != "" && !strings.Contains(got, tc.err) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.err)
		}
	}
}

// POST /webhook, with a secret configured, accepts a signed push and
// refuses an unsigned one; the loop's endpoints stay served beside it.
func TestDaemonWebhook(t *testing.T) {
	loop, err := daemon.New(daemon.Options{Source: source.Source(nil), API: nil})
	if err == nil || loop != nil {
		t.Fatal("a loop without source and API was made")
	}
	dir := t.TempDir()
	src, err := source.NewDir(source.DirConfig{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pve.New(pve.Config{URL: "https://127.0.0.1:1", TokenID: "a@pve!b", TokenSecret: "x", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	loop, err = daemon.New(daemon.Options{Source: src, API: pc})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemonInstance{src: src, loop: loop, webhook: "s3cret"}
	srv := httptest.NewServer(d.handler(nil, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(body)
	for _, tc := range []struct {
		sig  string
		want int
	}{{"", http.StatusUnauthorized}, {"sha256=" + strings.Repeat("0", 64), http.StatusForbidden}, {"sha256=" + hex.EncodeToString(mac.Sum(nil)), http.StatusAccepted}} {
		req, _ := http.NewRequest("POST", srv.URL+"/webhook", bytes.NewReader(body))
		if tc.sig != "" {
			req.Header.Set("X-Hub-Signature-256", tc.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("signature %q: %d, want %d", tc.sig, resp.StatusCode, tc.want)
		}
	}
	if resp, err := http.Get(srv.URL + "/status"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("status beside the webhook: %v %v", err, resp)
	}
}
