package privileged

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a pct for the runner tests: with
// FELHOM_TEST_PCT set in its environment it acts as pct and exits, so the
// runner runs a real process with real exit codes and stderr.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FELHOM_TEST_PCT"); mode != "" {
		os.Exit(fakePCT(mode))
	}
	os.Exit(m.Run())
}

// fakePCT records its argv and environment and answers as PVE's pct does
// for mode.
func fakePCT(mode string) int {
	if f := os.Getenv("FELHOM_TEST_PCT_ARGV"); f != "" {
		rec := strings.Join(os.Args[1:], "\n") + "\n--env--\n" + strings.Join(os.Environ(), "\n")
		_ = os.WriteFile(f, []byte(rec), 0o600)
	}
	switch mode {
	case "ok":
		return 0
	case "param":
		fmt.Fprint(os.Stderr, "400 Parameter verification failed.\nmp0: invalid format - format error\nmp0.mp: value does not match the regex pattern\n\npct set <vmid> [OPTIONS]\n")
	case "stale":
		fmt.Fprint(os.Stderr, "detected modified configuration - file changed by other user? Try again.\n")
	case "locked":
		fmt.Fprint(os.Stderr, "CT is locked (backup)\n")
	case "silent":
	case "hang":
		time.Sleep(time.Minute)
		return 0
	}
	return 255
}

const digest = "0123456789abcdef0123456789abcdef01234567"

func rootOn(node string) Host {
	return Host{UID: func() int { return 0 }, NodeName: func() (string, error) { return node, nil }}
}

func testRunner(t *testing.T, mode string, timeout time.Duration) (*Runner, string, *strings.Builder) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "argv")
	var logs strings.Builder
	cfg := Config{Enabled: true, PCT: exe, Timeout: timeout,
		Env: []string{"FELHOM_TEST_PCT=" + mode, "FELHOM_TEST_PCT_ARGV=" + rec}}
	return New(cfg, rootOn("pve1"), slog.New(slog.NewTextHandler(&logs, nil))), rec, &logs
}

func TestKeyOp(t *testing.T) {
	for _, tt := range []struct {
		key, value string
		del        bool
		want       Op
		ok         bool
	}{
		{"mp0", "/srv/data,mp=/data", false, OpBindMount, true},
		{"mp10", "volume=/srv/data,mp=/data", false, OpBindMount, true},
		{"mp1", "/dev/sdb1,mp=/mnt", false, OpDeviceMount, true},
		{"mp0", "local-lvm:vm-101-disk-1,mp=/data", false, "", false},
		{"mp0", "local-lvm:8,mp=/data", false, "", false},
		{"mp0", "", true, "", false},
		{"mp256", "/srv,mp=/x", false, "", false},
		{"mp01", "/srv,mp=/x", false, "", false},
		{"dev0", "/dev/ttyUSB0", false, OpDevice, true},
		{"dev3", "", true, OpDevice, true},
		{"features", "keyctl=1", false, OpFeatures, true},
		{"hookscript", "local:snippets/hook.sh", false, OpHookscript, true},
		{"memory", "1024", false, "", false},
		{"lxc.idmap", "u 0 100000 65536", false, "", false},
	} {
		got, ok := KeyOp(tt.key, tt.value, tt.del)
		if got != tt.want || ok != tt.ok {
			t.Errorf("KeyOp(%q, %q, %v) = %q, %v; want %q, %v", tt.key, tt.value, tt.del, got, ok, tt.want, tt.ok)
		}
	}
}

func TestArgv(t *testing.T) {
	r := New(Config{Enabled: true}, rootOn("pve1"), nil)
	argv, err := r.Argv(Request{Node: "pve1", VMID: 101, Digest: digest,
		Set:    map[string]string{"mp10": "/srv/b,mp=/b", "mp2": "/srv/a,mp=/a,ro=1", "features": "keyctl=1,nesting=1", "dev0": "/dev/ttyUSB0,mode=0660"},
		Delete: []string{"hookscript", "dev1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/sbin/pct", "set", "101", "--delete", "dev1,hookscript",
		"--dev0", "/dev/ttyUSB0,mode=0660", "--features", "keyctl=1,nesting=1",
		"--mp2", "/srv/a,mp=/a,ro=1", "--mp10", "/srv/b,mp=/b", "--digest", digest}
	if !slices.Equal(argv, want) {
		t.Errorf("argv\n got %q\nwant %q", argv, want)
	}
}

// Every value is checked before anything runs; the error names the key.
func TestArgvRefuses(t *testing.T) {
	r := New(Config{Enabled: true}, rootOn("pve1"), nil)
	for _, tt := range []struct {
		name string
		req  Request
		want string
	}{
		{"no digest", Request{VMID: 101, Set: map[string]string{"dev0": "/dev/null"}}, "digest: want the config digest"},
		{"short digest", Request{VMID: 101, Digest: "abc", Set: map[string]string{"dev0": "/dev/null"}}, "digest:"},
		{"bad vmid", Request{VMID: 7, Digest: digest, Set: map[string]string{"dev0": "/dev/null"}}, "vmid: 7 is not a VMID"},
		{"nothing", Request{VMID: 101, Digest: digest}, "nothing to set"},
		{"volume mount", Request{VMID: 101, Digest: digest, Set: map[string]string{"mp0": "local-lvm:8,mp=/d"}}, "mp0: not a root-only write"},
		{"api key", Request{VMID: 101, Digest: digest, Set: map[string]string{"memory": "512"}}, "memory: not a root-only write"},
		{"raw lxc", Request{VMID: 101, Digest: digest, Set: map[string]string{"lxc.idmap": "u 0 100000 65536"}}, "lxc.idmap: raw lxc.* keys have no pct set option"},
		{"bind without mp", Request{VMID: 101, Digest: digest, Set: map[string]string{"mp0": "/srv/data"}}, "mp0:"},
		{"bad mount key", Request{VMID: 101, Digest: digest, Set: map[string]string{"mp0": "/srv/data,mp=/d,bogus=1"}}, "mp0:"},
		{"dev outside /dev", Request{VMID: 101, Digest: digest, Set: map[string]string{"dev0": "/etc/passwd"}}, "dev0:"},
		{"dev without path", Request{VMID: 101, Digest: digest, Set: map[string]string{"dev0": "mode=0660"}}, "dev0: Path has to be defined"},
		{"bad feature", Request{VMID: 101, Digest: digest, Set: map[string]string{"features": "keyctl=maybe"}}, "features:"},
		{"hookscript not a snippet", Request{VMID: 101, Digest: digest, Set: map[string]string{"hookscript": "local:iso/x.sh"}}, "is not in the snippets directory"},
		{"newline", Request{VMID: 101, Digest: digest, Set: map[string]string{"dev0": "/dev/null\n--memory"}}, "line break"},
		{"delete api key", Request{VMID: 101, Digest: digest, Delete: []string{"memory"}}, "memory: not a root-only write"},
		{"delete bad key", Request{VMID: 101, Digest: digest, Delete: []string{"--x"}}, "not a PVE config key"},
		{"set and delete", Request{VMID: 101, Digest: digest, Set: map[string]string{"dev0": "/dev/null"}, Delete: []string{"dev0"}}, "both set and deleted"},
	} {
		_, err := r.Argv(tt.req)
		var ve *ValueError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want a *ValueError with %q", tt.name, err, tt.want)
		}
	}
}

func TestStatusFor(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Status
		want string // "" for available
	}{
		{"available", Status{Enabled: true, UID: 0, Node: "pve1"}, ""},
		{"disabled", Status{UID: 0, Node: "pve1"}, "the privileged backend is not enabled (set privileged.enabled: true in felhom's config and run felhom as root on node pve1)"},
		{"not root", Status{Enabled: true, UID: 1000, Node: "pve1"}, "felhom runs as uid 1000, not root (run felhom as root on node pve1)"},
		{"other node", Status{Enabled: true, UID: 0, Node: "pve2"}, "felhom runs on node pve2, the container is on pve1 (run felhom as root on node pve1)"},
		{"node unknown", Status{Enabled: true, UID: 0, NodeErr: "host name: boom"}, "cannot tell which PVE node felhom runs on: host name: boom"},
		{"no pct", Status{Enabled: true, UID: 0, Node: "pve1", PCTErr: "stat /usr/sbin/pct: no such file or directory"}, "pct cannot run: stat /usr/sbin/pct"},
	} {
		err := tt.s.For("pve1")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, ErrUnavailable)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRunnerStatusLooksAtTheHost(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "pct")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Enabled: true, PCT: notExec}, Host{UID: func() int { return 0 }, NodeName: func() (string, error) { return "", errors.New("boom") }}, nil).Status()
	if s.UID != 0 || s.NodeErr != "boom" || !strings.Contains(s.PCTErr, "not an executable file") {
		t.Errorf("%+v", s)
	}
	if s := New(Config{}, rootOn("pve1"), nil).Status(); s.Enabled || s.For("pve1") == nil {
		t.Errorf("disabled: %+v", s)
	}
}

func TestNodeName(t *testing.T) {
	dir := t.TempDir()
	host := func(h string) func() (string, error) { return func() (string, error) { return h, nil } }
	if n, err := NodeName(dir, host("pve1.example.net")); err != nil || n != "pve1" {
		t.Errorf("from the host name: %q %v", n, err)
	}
	if err := os.Symlink("nodes/pve7", filepath.Join(dir, "local")); err != nil {
		t.Fatal(err)
	}
	if n, err := NodeName(dir, host("other")); err != nil || n != "pve7" {
		t.Errorf("from /etc/pve/local: %q %v", n, err)
	}
	bad := t.TempDir()
	if err := os.Symlink("elsewhere", filepath.Join(bad, "local")); err != nil {
		t.Fatal(err)
	}
	if _, err := NodeName(bad, host("x")); err == nil {
		t.Error("a local link not to nodes/NAME is an error")
	}
	if _, err := NodeName(t.TempDir(), func() (string, error) { return "", errors.New("no") }); err == nil {
		t.Error("a failing host name is an error")
	}
}

func TestSetRunsPCT(t *testing.T) {
	r, rec, logs := testRunner(t, "ok", time.Minute)
	err := r.Set(context.Background(), Request{Node: "pve1", VMID: 101, Digest: digest, Set: map[string]string{"features": "keyctl=1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	args, env, _ := strings.Cut(string(b), "\n--env--\n")
	if args != "set\n101\n--features\nkeyctl=1\n--digest\n"+digest {
		t.Errorf("pct got argv %q", args)
	}
	// A clean environment: nothing of felhom's own (where the token secret may sit).
	for _, e := range strings.Split(env, "\n") {
		name, _, _ := strings.Cut(e, "=")
		switch name {
		case "PATH", "LC_ALL", "FELHOM_TEST_PCT", "FELHOM_TEST_PCT_ARGV":
		default:
			t.Errorf("pct's environment has %s", name)
		}
	}
	log := logs.String()
	if !strings.Contains(log, `msg="privileged: ran"`) || !strings.Contains(log, "--features keyctl=1") || !strings.Contains(log, "exit=0") || strings.Contains(log, "FELHOM_TEST_PCT") {
		t.Errorf("log: %s", log)
	}
}

func TestSetErrors(t *testing.T) {
	req := Request{Node: "pve1", VMID: 101, Digest: digest, Set: map[string]string{"mp0": "/srv,mp=/srv"}}
	for _, tt := range []struct {
		mode   string
		is     error
		status int
		msg    string
		params map[string]string
	}{
		{"param", ErrParam, 400, "Parameter verification failed.", map[string]string{"mp0": "invalid format - format error", "mp0.mp": "value does not match the regex pattern"}},
		{"stale", ErrStaleDigest, 0, "detected modified configuration - file changed by other user? Try again.", nil},
		{"locked", ErrLocked, 0, "CT is locked (backup)", nil},
		{"silent", nil, 0, "pct printed nothing on stderr", nil},
	} {
		r, _, logs := testRunner(t, tt.mode, time.Minute)
		err := r.Set(context.Background(), req)
		var ee *ExecError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", tt.mode, err)
		}
		if ee.ExitCode != 255 || ee.Status != tt.status || ee.Message != tt.msg || !mapsEqual(ee.Params, tt.params) {
			t.Errorf("%s: %+v", tt.mode, ee)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: %v is not %v", tt.mode, err, tt.is)
		}
		if !strings.Contains(logs.String(), "exit=255") {
			t.Errorf("%s: log %s", tt.mode, logs)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSetTimeout(t *testing.T) {
	r, _, _ := testRunner(t, "hang", 200*time.Millisecond)
	err := r.Set(context.Background(), Request{Node: "pve1", VMID: 101, Digest: digest, Set: map[string]string{"dev0": "/dev/null"}})
	var ee *ExecError
	if !errors.As(err, &ee) || !errors.Is(err, ErrTimeout) || ee.ExitCode != -1 {
		t.Errorf("err %v", err)
	}
}

// Unavailable or bad requests run nothing.
func TestSetRunsNothingWhenRefused(t *testing.T) {
	r, rec, logs := testRunner(t, "ok", time.Minute)
	r.host = rootOn("pve2")
	err := r.Set(context.Background(), Request{Node: "pve1", VMID: 101, Digest: digest, Set: map[string]string{"dev0": "/dev/null"}})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("other node: %v", err)
	}
	r.host = rootOn("pve1")
	if err := r.Set(context.Background(), Request{Node: "pve1", VMID: 101, Digest: digest, Set: map[string]string{"memory": "1"}}); err == nil {
		t.Error("an API key was carried")
	}
	if _, err := os.Stat(rec); err == nil || logs.Len() > 0 {
		t.Errorf("pct ran: %v %s", err, logs)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte("url: https://x:8006\nprivileged:\n  enabled: true\n  pct: /opt/pct\n  timeout: 30s\n  env: [A=b]\n"))
	if err != nil || !c.Enabled || c.PCT != "/opt/pct" || c.Timeout != 30*time.Second || !slices.Equal(c.Env, []string{"A=b"}) {
		t.Errorf("%+v %v", c, err)
	}
	if c, err := ParseConfig([]byte("url: https://x:8006\n")); err != nil || c.Enabled {
		t.Errorf("no section: %+v %v", c, err)
	}
	for _, tt := range []struct{ doc, want string }{
		{"privileged:\n  enabeld: true\n", "line 2: unknown key privileged.enabeld (did you mean \"enabled\"?)"},
		{"privileged:\n  enabled: maybe\n", "line 2: privileged.enabled: want true or false"},
		{"privileged:\n  pct: pct\n", `privileged.pct "pct": want an absolute path`},
		{"privileged:\n  env: [NOVALUE]\n", "privileged.env[0]: want NAME=value"},
		{"privileged: yes\n", "line 1: privileged: want keys"},
	} {
		if _, err := ParseConfig([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.doc, err, tt.want)
		}
	}
}
