package ctconf

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
)

const refDir = "pve-api/lxc-conf"

func mustParse(t testing.TB, text string) *File {
	t.Helper()
	f, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

// TestReferenceRoundTrip: every real config file PVE wrote loads and writes
// back byte for byte, with no warnings.
func TestReferenceRoundTrip(t *testing.T) {
	for _, path := range testref.Glob(t, filepath.Join(refDir, "*.conf")) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			text := testref.Read(t, filepath.Join(refDir, filepath.Base(path)))
			f, err := Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) > 0 {
				t.Errorf("warnings: %q", f.Warnings)
			}
			if got := f.Bytes(); !bytes.Equal(got, text) {
				t.Errorf("round trip differs:\n--- got\n%s\n--- want\n%s", got, text)
			}
			if f.Digest != Digest(text) || len(f.Digest) != 40 {
				t.Errorf("digest %q", f.Digest)
			}
			if len(f.Snapshots) == 0 {
				t.Errorf("no snapshot sections parsed")
			}
		})
	}
}

func TestParseModel(t *testing.T) {
	text := "#line one%3A with colon\n#\n#%C3%A9t%C3%A9\n" +
		"arch: amd64\nmemory: 512\nonboot: yes\ncores: 02\n" +
		"lxc.environment.runtime: A=1\nlxc.cgroup2.devices.allow: c 10:200 rwm\n" +
		"lxc.environment.runtime: B=2\nlxc.cgroup2.devices.allow: c 10:229 rwm\n" +
		"\n[pve:pending]\nmemory: 1024\ndelete: swap,!cpulimit\n" +
		"\n[snap1]\n#first\nmemory: 256\nsnaptime: 10\nsnapstate: prepare\n"
	f := mustParse(t, text)
	if d := f.Main.Description(); d != "line one: with colon\n\nété\n" {
		t.Errorf("description %q", d)
	}
	if v, _ := f.Get("onboot"); v != "1" {
		t.Errorf("onboot normalised to %q, want 1", v)
	}
	if v, _ := f.Get("cores"); v != "2" {
		t.Errorf("cores normalised to %q, want 2", v)
	}
	if v, _ := f.Get("env"); v != "A=1\x00B=2" {
		t.Errorf("env %q", v)
	}
	if len(f.Main.Lxc) != 2 || f.Main.Lxc[1].Value != "c 10:229 rwm" {
		t.Errorf("lxc %v", f.Main.Lxc)
	}
	if f.Pending == nil {
		t.Fatal("no pending")
	}
	dels := f.PendingDeletes()
	if len(dels) != 2 || dels[0] != (PendingDelete{Key: "cpulimit", Force: true}) || dels[1] != (PendingDelete{Key: "swap"}) {
		t.Errorf("pending deletes %v", dels)
	}
	s := f.Snapshot("snap1")
	if s == nil || s.Snaptime() != 10 || s.Snapstate() != "prepare" || s.Description() != "first\n" {
		t.Fatalf("snapshot %+v", s)
	}
	want := "#line one%3A with colon\n#\n#%C3%A9t%C3%A9\n" +
		"arch: amd64\ncores: 2\nmemory: 512\nonboot: 1\n" +
		"lxc.environment.runtime: A=1\nlxc.environment.runtime: B=2\n" +
		"lxc.cgroup2.devices.allow: c 10:200 rwm\nlxc.cgroup2.devices.allow: c 10:229 rwm\n" +
		"\n[pve:pending]\ndelete: swap,!cpulimit\nmemory: 1024\n" +
		"\n[snap1]\n#first\nmemory: 256\nsnapstate: prepare\nsnaptime: 10\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("bytes:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseQuirks(t *testing.T) {
	tests := []struct {
		name, in, want string
		warnings       int
	}{
		{"keys sorted, values trimmed", "swap: 512  \r\nmemory:   1024\n", "memory: 1024\nswap: 512\n", 0},
		{"later key wins", "memory: 1\nmemory: 2\n", "memory: 2\n", 0},
		{"comments anywhere are the description", "memory: 1\n# late\n", "# late\nmemory: 1\n", 0},
		{"description key", "description: a%3Ab\n", "#a%3Ab\n", 0},
		{"description 0 is dropped as in Perl", "description: 0\nmemory: 1\n", "memory: 1\n", 0},
		{"main snapstate is dropped", "snapstate: prepare\nmemory: 1\n", "memory: 1\n", 0},
		{"unknown key kept with warning", "memroy: 1\n", "memroy: 1\n", 1},
		{"bad integer kept with warning", "memory: lots\n", "memory: lots\n", 1},
		{"used unusedN is not written", "rootfs: local:vol-1,size=8G\nunused0: local:vol-1\nunused1: local:vol-2\n", "rootfs: local:vol-1,size=8G\nunused1: local:vol-2\n", 0},
		{"empty pending is not written", "memory: 1\n[pve:pending]\n", "memory: 1\n", 0},
		{"section names keep case, sorted", "memory: 1\n[bb]\nmemory: 2\n[AA]\nmemory: 3\n", "memory: 1\n\n[AA]\nmemory: 3\n\n[bb]\nmemory: 2\n", 0},
		{"repeated section replaces", "memory: 1\n[aa]\nmemory: 2\n[aa]\nswap: 3\n", "memory: 1\n\n[aa]\nswap: 3\n", 0},
		{"lxc with equals", "lxc.apparmor.profile = unconfined\n", "lxc.apparmor.profile: unconfined\n", 0},
		{"encode percent and control", "description: 100%25 x%09y\n", "#100%25 x%09y\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.in)
			if got := string(f.Bytes()); got != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
			if len(f.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", f.Warnings, tc.warnings)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"garbage", "memory: 1\n\nthis is not config\n", 3, "unable to parse config: this is not config"},
		{"delete outside pending", "memory: 1\ndelete: swap\n", 2, "property 'delete' is only allowed in [pve:pending]"},
		{"bad section", "memory: 1\n[pve:other]\n", 2, "unable to parse config: [pve:other]"},
		{"uppercase key", "Memory: 1\n", 1, "unable to parse config: Memory: 1"},
		{"one-letter section", "memory: 1\n[a]\n", 2, "unable to parse config: [a]"},
		{"key without value", "memory:\n", 1, "unable to parse config: memory:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tc.line || pe.Msg != tc.msg {
				t.Errorf("got line %d %q, want line %d %q", pe.Line, pe.Msg, tc.line, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("error %q does not name the line", err)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	// sha1("") and sha1("abc") are well known.
	if got := Digest(nil); got != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Errorf("Digest(nil) = %s", got)
	}
	if got := Digest([]byte("abc")); got != "a9993e364706816aba3e25717850c26c9cd0d89d" {
		t.Errorf("Digest(abc) = %s", got)
	}
}

func TestVolumeKeys(t *testing.T) {
	s := NewSection()
	for _, k := range []string{"mp10", "mp2", "rootfs", "mp0", "mp255", "mp256", "mp02", "mp", "mpx", "mp1a", "memory", "unused0"} {
		s.Set(k, "x")
	}
	want := []string{"rootfs", "mp0", "mp2", "mp10", "mp255"}
	if got := volumeKeys(s); !reflect.DeepEqual(got, want) {
		t.Errorf("volumeKeys = %q, want %q", got, want)
	}
	if got := volumeKeys(NewSection()); len(got) != 0 {
		t.Errorf("volumeKeys(empty) = %q", got)
	}
}
