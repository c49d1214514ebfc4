package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/reconcile/daemon"
)

// gitRemote is a bare repository served by git http-backend (CGI, the real
// smart HTTP protocol) on loopback behind basic authentication, and a
// working repository that commits and pushes to it with the git command.
type gitRemote struct {
	t    *testing.T
	bare string
	work string
	url  string
	env  []string
}

func newGitRemote(t *testing.T, user, password string) *gitRemote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; the git end-to-end test needs git http-backend")
	}
	base := t.TempDir()
	r := &gitRemote{t: t, bare: filepath.Join(base, "specs.git"), work: t.TempDir(),
		env: append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(),
			"GIT_AUTHOR_NAME=Ops", "GIT_AUTHOR_EMAIL=ops@example.net",
			"GIT_COMMITTER_NAME=Ops", "GIT_COMMITTER_EMAIL=ops@example.net")}
	r.git("init", "--bare", "-q", "-b", "main", r.bare)
	r.git("-C", r.work, "init", "-q", "-b", "main")
	r.git("-C", r.work, "remote", "add", "origin", r.bare)

	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	r.url = "http://" + l.Addr().String() + "/specs.git"
	return r
}

// git runs the git command and returns its trimmed output.
func (r *gitRemote) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitAndPush commits everything in the working tree and pushes main;
// it returns the commit id.
func (r *gitRemote) commitAndPush(msg string) string {
	r.t.Helper()
	r.git("-C", r.work, "add", "-A")
	r.git("-C", r.work, "commit", "-q", "--allow-empty", "-m", msg)
	r.git("-C", r.work, "push", "-q", "origin", "main")
	return r.git("-C", r.work, "rev-parse", "HEAD")
}

// githubPush POSTs a push event signed as GitHub signs it and returns the
// response's status code.
func (d *runningDaemon) githubPush(secret string) int {
	d.t.Helper()
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, _ := http.NewRequest("POST", d.url+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *runningDaemon) container(vmid int) daemon.ContainerStatus {
	d.t.Helper()
	for _, c := range d.status().Containers {
		if c.VMID == vmid {
			return c
		}
	}
	return daemon.ContainerStatus{}
}

// The daemon end to end on a git source: the built binary, configured by
// its configuration file, follows a branch served by git http-backend with
// a token, against the simulator over HTTPS. A pushed commit announced by a
// signed webhook is applied (the time from push to applied is logged); a
// broken commit changes nothing and is reported while the last good
// revision stays; the fixing commit, fetched at the interval, applies; the
// commit ids are the revisions /status shows.
func TestE2EDaemonGit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs git http-backend")
	}
	e := newE2E(t, examplesInventory(t))
	const token, hookSecret = "git-t0ken-4e2a9c", "h00k-s3cret-7b1d"
	r := newGitRemote(t, "bot", token)
	specs := filepath.Join(r.work, "containers")
	if err := os.MkdirAll(specs, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSpec(t, specs, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	writeSpec(t, specs, "db.yaml", "db", "pve2", 201, "cores: 2\n")
	if err := os.WriteFile(filepath.Join(r.work, "README.md"), []byte("not a spec\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := r.commitAndPush("first")

	secrets := t.TempDir()
	tokenFile, hookFile := filepath.Join(secrets, "git-token"), filepath.Join(secrets, "webhook-secret")
	for name, s := range map[string]string{tokenFile: token, hookFile: hookSecret} {
		if err := os.WriteFile(name, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(secrets, "daemon.yaml")
	if err := os.WriteFile(conf, []byte(`source:
  git:
    url: `+r.url+`
    branch: main
    path: containers
    interval: 2s
    username: bot
    token_file: `+tokenFile+`
resync: 1h
webhook:
  secret_file: `+hookFile+`
`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := e.startDaemon("--daemon-config", conf, "--log-format", "json")
	d.waitFor("the first commit applied", func() bool {
		c := d.container(101)
		return confValue(t, e.sim, 101, "memory") == "2048" && c.State == daemon.StateSynced && c.LastAppliedRevision == first
	})
	if st := d.status(); st.Revision != first {
		t.Errorf("revision %q, want the commit %s", st.Revision, first)
	}

	writeSpec(t, specs, "web.yaml", "web", "pve1", 101, "memory: 3G\n")
	pushed := time.Now()
	second := r.commitAndPush("web: 3G")
	if code := d.githubPush(hookSecret); code != http.StatusAccepted {
		t.Fatalf("signed webhook: %d, want 202", code)
	}
	d.waitFor("the pushed commit applied", func() bool { return confValue(t, e.sim, 101, "memory") == "3072" })
	t.Logf("git push + webhook to applied: %s (fetch over git http-backend, plan, apply, the simulator's task times included; interval 2s)", time.Since(pushed).Round(time.Millisecond))
	d.waitFor("the revision on /status", func() bool {
		return d.status().Revision == second && d.container(101).LastAppliedRevision == second
	})
	if !strings.Contains(d.log.String(), `"msg":"webhook: accepted; fetching"`) {
		t.Error("the log does not show the webhook")
	}

	writeSpec(t, specs, "web.yaml", "web", "pve1", 101, "memory: 4G\ncores: many\n")
	broken := r.commitAndPush("web: broken")
	d.waitFor("the broken commit reported", func() bool {
		inv := d.status().Invalid
		return inv != nil && inv.Revision == broken
	})
	st := d.status()
	if st.Revision != second || len(st.Invalid.Errors) != 1 || !strings.HasPrefix(st.Invalid.Errors[0], "web.yaml:9:10: error:") {
		t.Errorf("status under a broken commit: revision %q (want %s), invalid %+v", st.Revision, second, st.Invalid)
	}
	if v := confValue(t, e.sim, 101, "memory"); v != "3072" {
		t.Errorf("memory %s under a broken commit", v)
	}
	if !strings.Contains(d.log.String(), `"msg":"invalid revision: not applied"`) {
		t.Error("the log does not report the invalid revision")
	}

	writeSpec(t, specs, "web.yaml", "web", "pve1", 101, "memory: 4G\n")
	fixed := r.commitAndPush("web: 4G")
	d.waitFor("the fixing commit applied", func() bool {
		st := d.status()
		return confValue(t, e.sim, 101, "memory") == "4096" && st.Invalid == nil && st.Revision == fixed &&
			d.container(101).LastAppliedRevision == fixed
	})
	for _, secret := range []string{token, hookSecret, "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b"} {
		if strings.Contains(d.log.String(), secret) {
			t.Errorf("a secret (%.4s...) is in the log", secret)
		}
	}
}
