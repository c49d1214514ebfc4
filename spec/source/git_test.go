package source

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func newGitSource(t *testing.T, cfg GitConfig) *Git {
	t.Helper()
	g, err := NewGit(cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func fetch(t *testing.T, g *Git) Revision {
	t.Helper()
	rev, err := g.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// runSource runs g.Run until the test ends.
func runSource(t *testing.T, g *Git) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func waitChanged(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatal("Changed did not fire")
	}
}

// TestGitFollowsBranch runs over both servers: a pushed commit is seen on a
// trigger, a force-pushed branch is followed, a sub-folder is the tree.
func TestGitFollowsBranch(t *testing.T) {
	for _, server := range []string{"git-daemon", "http-backend"} {
		t.Run(server, func(t *testing.T) {
			u := newUpstream(t)
			c1 := u.commit(map[string]*string{"clusters/home/a.yaml": ptr(ctYAML("a", 100, 512)), "README.md": ptr("hi")}, git.CommitOptions{})
			u.push()
			cfg := GitConfig{Path: "clusters/home", Interval: time.Hour}
			if server == "git-daemon" {
				cfg.URL = u.gitDaemon()
			} else {
				cfg.URL, _ = u.httpServer("bot", "s3cr3t-token")
				cfg.TokenFile = secretFile(t, "s3cr3t-token")
				cfg.Username = "bot"
			}
			g := newGitSource(t, cfg)
			rev := fetch(t, g)
			if rev.ID != c1.String() || !rev.Time.Equal(commitClock) {
				t.Fatalf("revision %s at %v, want %s at %v", rev.ID, rev.Time, c1, commitClock)
			}
			wantFiles(t, rev, map[string]string{"a.yaml": ctYAML("a", 100, 512)})

			runSource(t, g)
			c2 := u.commit(map[string]*string{"clusters/home/b.yaml": ptr(ctYAML("b", 101, 512))}, git.CommitOptions{})
			u.push()
			g.Trigger()
			waitChanged(t, g.Changed())
			rev2 := fetch(t, g)
			if rev2.ID != c2.String() {
				t.Fatalf("after a push: %s, want %s", rev2.ID, c2)
			}
			wantFiles(t, rev2, map[string]string{"a.yaml": ctYAML("a", 100, 512), "b.yaml": ctYAML("b", 101, 512)})

			// Force-push: c2 is dropped, c3 (on c1) replaces it.
			u.resetTo(c1)
			c3 := u.commit(map[string]*string{"clusters/home/a.yaml": ptr(ctYAML("a", 100, 2048))}, git.CommitOptions{})
			u.push()
			g.Trigger()
			waitChanged(t, g.Changed())
			rev3 := fetch(t, g)
			if rev3.ID != c3.String() {
				t.Fatalf("after a force-push: %s, want %s", rev3.ID, c3)
			}
			wantFiles(t, rev3, map[string]string{"a.yaml": ctYAML("a", 100, 2048)})
			// The revision handed out before still holds its files.
			wantFiles(t, rev2, map[string]string{"a.yaml": ctYAML("a", 100, 512), "b.yaml": ctYAML("b", 101, 512)})
		})
	}
}

func TestGitTag(t *testing.T) {
	u := newUpstream(t)
	c1 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	if _, err := u.work.CreateTag("v1", c1, nil); err != nil {
		t.Fatal(err)
	}
	c2 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 1024))}, git.CommitOptions{})
	if _, err := u.work.CreateTag("v2", c2, &git.CreateTagOptions{Message: "release 2", Tagger: &object.Signature{Name: "Ops", Email: "ops@example.net", When: commitClock}}); err != nil {
		t.Fatal(err)
	}
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 4096))}, git.CommitOptions{})
	u.push("+refs/heads/main:refs/heads/main", "+refs/tags/v1:refs/tags/v1", "+refs/tags/v2:refs/tags/v2")
	url := u.gitDaemon()

	// A lightweight tag and an annotated one name their commits, not the
	// branch head.
	for tag, want := range map[string]plumbing.Hash{"v1": c1, "v2": c2} {
		rev := fetch(t, newGitSource(t, GitConfig{URL: url, Tag: tag}))
		if rev.ID != want.String() {
			t.Errorf("tag %s: %s, want %s", tag, rev.ID, want)
		}
	}
	// A tag moved on the server is followed.
	g := newGitSource(t, GitConfig{URL: url, Tag: "v1"})
	fetch(t, g)
	if err := u.work.DeleteTag("v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.work.CreateTag("v1", c2, nil); err != nil {
		t.Fatal(err)
	}
	u.push("+refs/tags/v1:refs/tags/v1")
	if rev := fetch(t, g); rev.ID != c2.String() {
		t.Fatalf("moved tag: %s, want %s", rev.ID, c2)
	}
	_, err := newGitSource(t, GitConfig{URL: url, Tag: "v9"}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the remote has no tag v9") {
		t.Fatalf("missing tag: %v", err)
	}
}

// TestGitPinnedCommit: a pinned commit stays, and once fetched it costs no
// request again.
func TestGitPinnedCommit(t *testing.T) {
	u := newUpstream(t)
	c1 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 1024))}, git.CommitOptions{})
	u.push()
	url, requests := u.httpServer("bot", "pw")
	g := newGitSource(t, GitConfig{URL: url, Commit: c1.String(), Username: "bot", PasswordFile: secretFile(t, "pw")})
	rev := fetch(t, g)
	if rev.ID != c1.String() {
		t.Fatalf("pinned: %s, want %s", rev.ID, c1)
	}
	wantFiles(t, rev, map[string]string{"a.yaml": ctYAML("a", 100, 512)})
	n := requests.Load()
	if n == 0 {
		t.Fatal("no request reached the server")
	}
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 2048))}, git.CommitOptions{})
	u.push()
	if rev := fetch(t, g); rev.ID != c1.String() {
		t.Fatalf("pinned after a push: %s", rev.ID)
	}
	if got := requests.Load(); got != n {
		t.Fatalf("a fetch of a pinned commit already held made %d requests", got-n)
	}
	missing := strings.Repeat("ab", 20)
	_, err := newGitSource(t, GitConfig{URL: url, Commit: missing, Username: "bot", PasswordFile: secretFile(t, "pw")}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "commit "+missing+": not found in the fetched branches") {
		t.Fatalf("missing commit: %v", err)
	}
}

// TestGitWrongCredential: a clear error naming the file, never the secret.
func TestGitWrongCredential(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	url, _ := u.httpServer("bot", "right-password")
	for _, tc := range []struct {
		name string
		cfg  GitConfig
		want string
	}{
		{"wrong token", GitConfig{TokenFile: secretFile(t, "wrong-tok3n")}, "authentication required: the server refused the credentials from token_file "},
		{"wrong password", GitConfig{Username: "bot", PasswordFile: secretFile(t, "wrong-passw0rd")}, "the server refused the credentials from password_file "},
		{"none", GitConfig{}, "authentication required: the server wants credentials"},
	} {
		cfg := tc.cfg
		cfg.URL = url
		_, err := newGitSource(t, cfg).Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "wrong-") || strings.Contains(err.Error(), "right-password") {
			t.Errorf("%s: the error shows a secret: %v", tc.name, err)
		}
	}
	_, err := newGitSource(t, GitConfig{URL: url, TokenFile: secretFile(t, "x"), Branch: "nope"}).Fetch(context.Background())
	if err == nil {
		t.Fatal("fetch of a missing branch with a wrong token passed")
	}
	// An unreadable credential file is refused at New.
	_, err = NewGit(GitConfig{URL: url, TokenFile: "/nonexistent/token"}, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "git.token_file") {
		t.Fatalf("missing token file: %v", err)
	}
}

func TestGitMissingBranchAndPath(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	url := u.gitDaemon()
	_, err := newGitSource(t, GitConfig{URL: url, Branch: "prod"}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the remote has no branch prod") {
		t.Fatalf("missing branch: %v", err)
	}
	_, err = newGitSource(t, GitConfig{URL: url, Path: "clusters/x"}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "path clusters/x: not a folder in the commit") {
		t.Fatalf("missing path: %v", err)
	}
}

// TestGitRunSignalsOnInterval: without a trigger, Run polls.
func TestGitRunSignalsOnInterval(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	var logs bytes.Buffer
	g, err := NewGit(GitConfig{URL: u.gitDaemon(), Interval: 10 * time.Millisecond}, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, g)
	runSource(t, g)
	c2 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 1024))}, git.CommitOptions{})
	u.push()
	waitChanged(t, g.Changed())
	if rev := fetch(t, g); rev.ID != c2.String() {
		t.Fatalf("%s, want %s", rev.ID, c2)
	}
}

func TestGitConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		cfg  GitConfig
		want string
	}{
		{GitConfig{URL: "ssh://git@h/r.git", SSHKeyFile: "k"}, "needs the host keys to trust"},
		{GitConfig{URL: "https://h/r.git", SSHKeyFile: "k"}, "ssh settings need an ssh://"},
		{GitConfig{URL: "git://h/r.git", TokenFile: "t"}, "git:// carries no credentials"},
		{GitConfig{URL: "git@h:r.git", KnownHostsFile: "/nonexistent"}, "an ssh URL needs a key file"},
	} {
		_, err := NewGit(tc.cfg, t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := NewGit(GitConfig{URL: "git://h/r"}, "", nil); err == nil {
		t.Error("no state folder accepted")
	}
}

// TestGitFetchTimeout: a server that never answers costs one timeout, told
// as such.
func TestGitFetchTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn // open, never answered, closed with the listener
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	g := newGitSource(t, GitConfig{URL: "git://" + l.Addr().String() + "/specs.git", Timeout: 200 * time.Millisecond})
	_, err = g.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no answer within the timeout of 200ms") {
		t.Fatalf("silent server: %v", err)
	}
}
