package source

import (
	"bytes"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// needGit skips a test when the git command is missing (.ci/run installs it).
func needGit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed; the git server tests need git daemon and git http-backend")
	}
	return p
}

// upstream is a bare repository served by real git servers on loopback, and
// a working repository (go-git) that commits and pushes to it.
type upstream struct {
	t    *testing.T
	base string // the folder the servers serve
	bare string // base/specs.git
	work *git.Repository
	wdir string
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	needGit(t)
	base := t.TempDir()
	u := &upstream{t: t, base: base, bare: filepath.Join(base, "specs.git"), wdir: t.TempDir()}
	if out, err := exec.Command("git", "init", "--bare", "-q", "-b", "main", u.bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	work, err := git.PlainInitWithOptions(u.wdir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := work.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{u.bare}}); err != nil {
		t.Fatal(err)
	}
	u.work = work
	return u
}

var commitClock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// commit writes files (a nil value removes one) on the working branch and
// commits them with opts' signer, if any.
func (u *upstream) commit(files map[string]*string, opts git.CommitOptions) plumbing.Hash {
	u.t.Helper()
	wt, err := u.work.Worktree()
	if err != nil {
		u.t.Fatal(err)
	}
	for name, data := range files {
		full := filepath.Join(u.wdir, name)
		if data == nil {
			if _, err := wt.Remove(name); err != nil {
				u.t.Fatal(err)
			}
			continue
		}
		write(u.t, full, *data)
		if _, err := wt.Add(name); err != nil {
			u.t.Fatal(err)
		}
	}
	commitClock = commitClock.Add(time.Minute)
	opts.Author = &object.Signature{Name: "Ops", Email: "ops@example.net", When: commitClock}
	opts.AllowEmptyCommits = true
	h, err := wt.Commit("change", &opts)
	if err != nil {
		u.t.Fatal(err)
	}
	return h
}

// push pushes the working branch main (forced: a rewritten history goes up
// as it is).
func (u *upstream) push(refs ...string) {
	u.t.Helper()
	if len(refs) == 0 {
		refs = []string{"+refs/heads/main:refs/heads/main"}
	}
	specs := make([]gitconfig.RefSpec, len(refs))
	for i, r := range refs {
		specs[i] = gitconfig.RefSpec(r)
	}
	err := u.work.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: specs, Force: true})
	if err != nil && err != git.NoErrAlreadyUpToDate {
		u.t.Fatal(err)
	}
}

// resetTo points the working branch at h (for a force-push).
func (u *upstream) resetTo(h plumbing.Hash) {
	u.t.Helper()
	wt, _ := u.work.Worktree()
	if err := wt.Reset(&git.ResetOptions{Commit: h, Mode: git.HardReset}); err != nil {
		u.t.Fatal(err)
	}
}

// gitDaemon serves u.base with git daemon over git:// on loopback: the test
// accepts each connection and hands it to git daemon --inetd.
func (u *upstream) gitDaemon() string {
	u.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f, err := c.(*net.TCPConn).File()
			c.Close()
			if err != nil {
				continue
			}
			cmd := exec.Command("git", "daemon", "--inetd", "--export-all", "--base-path="+u.base, u.base)
			cmd.Stdin, cmd.Stdout = f, f
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			go func() {
				if err := cmd.Run(); err != nil {
					u.t.Logf("git daemon: %v: %s", err, stderr.String())
				}
				f.Close()
			}()
		}
	}()
	return "git://" + l.Addr().String() + "/specs.git"
}

// httpServer serves u.base through git http-backend (CGI: the real smart
// HTTP protocol) behind basic authentication as user:password. It counts
// the requests it answers.
func (u *upstream) httpServer(user, password string) (string, *atomic.Int64) {
	u.t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		u.t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + u.base, "GIT_HTTP_EXPORT_ALL=1"},
	}
	var requests atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if gotU, gotP, ok := r.BasicAuth(); !ok || gotU != user || gotP != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	u.t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/specs.git", &requests
}

func ptr(s string) *string { return &s }

// secretFile writes a credential file.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(name, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader at once.
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
