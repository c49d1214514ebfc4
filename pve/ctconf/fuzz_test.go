package ctconf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/felhom/felhom/internal/testref"
)

// FuzzParse: Parse never panics, what Bytes writes parses again, and from
// the first re-read on parse and write are a fixed point. (Files PVE wrote
// round-trip byte for byte from the start: TestReferenceRoundTrip and the
// simulator's lxc-conf tests check that on real files.)
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		baseConf,
		"#%C3%A9t%C3%A9 %3A\narch: amd64\nlxc.environment.runtime: A=1\nlxc.cgroup2.devices.allow: c 1:3 rwm\n",
		"memory: 512\n\n[pve:pending]\ndelete: swap,!cpulimit\nmemory: 1024\n",
		"memory: 1\n[aa]\n#x\nsnapstate: prepare\nsnaptime: 5\nparent: bb\n",
		"description: 0\nenv: \x00\x00a\nfoo: snapstate: delete\ndescription:   \n",
		"unused0: local:vol\nrootfs: local:vol\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if paths, err := filepath.Glob(filepath.Join(testref.Dir(), refDir, "*.conf")); err == nil {
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		_ = p.PendingEntries()
		_ = p.Merged()
		b1 := p.Bytes()
		if c := p.Clone(); !bytes.Equal(c.Bytes(), b1) {
			t.Fatalf("clone writes differently")
		}
		p2, err := Parse(b1)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%q", err, b1)
		}
		// A file PVE did not write can take one write to settle, in PVE
		// too: an "env:" line whose value is true to Perl but whose
		// NUL-separated parts are not ("env: 0\x00", "env:  ") is written
		// as lxc.environment.runtime lines, which read back as a false
		// "0" or "" that the next write drops. From the first re-read on
		// the text must not change.
		b2 := p2.Bytes()
		p3, err := Parse(b2)
		if err != nil {
			t.Fatalf("re-written file does not parse: %v\n%q", err, b2)
		}
		if b3 := p3.Bytes(); !bytes.Equal(b2, b3) {
			t.Fatalf("not stable:\n%q\n%q\n%q", b1, b2, b3)
		}
	})
}

// FuzzApplyUpdate: any update on any parsable config never panics; a file
// that accepted it writes text that parses and settles after one re-read;
// a refused update leaves the file unchanged.
func FuzzApplyUpdate(f *testing.F) {
	f.Add([]byte(baseConf), "memory", "1024", "swap", "", true)
	f.Add([]byte(baseConf), "mp1", "local-lvm:2,mp=/x", "mp0", "", false)
	f.Add([]byte(baseConf), "net1", "name=eth1,bridge=vmbr0", "unused0", "", true)
	f.Add([]byte(baseConf+"\n[pve:pending]\ndelete: swap\nostype: ubuntu\n"), "tags", "b;A", "cores", "swap", false)
	f.Add([]byte(baseConf), "rootfs", "local-lvm:4", "net0", "ostype", false)
	f.Fuzz(func(t *testing.T, text []byte, setKey, setValue, delKey, revertKey string, running bool) {
		p, err := Parse(text)
		if err != nil {
			return
		}
		before := p.Bytes()
		u := Update{VMID: 100}
		if setKey != "" {
			u.Set = map[string]string{setKey: setValue}
		}
		if delKey != "" {
			u.Delete = []string{delKey}
		}
		if revertKey != "" {
			u.Revert = []string{revertKey}
		}
		st := &fakeStorage{vmid: 100, sizes: map[string]int64{}}
		if _, err := p.ApplyUpdate(u, running, st); err != nil {
			if after := p.Bytes(); !bytes.Equal(before, after) {
				t.Fatalf("refused update (%v) changed the file", err)
			}
			return
		}
		// A value with trailing white space is written as given and
		// trimmed when read back, in PVE too, so the file is stable only
		// from its first re-read on.
		b1 := p.Bytes()
		p2, err := Parse(b1)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%q", err, b1)
		}
		b2 := p2.Bytes()
		p3, err := Parse(b2)
		if err != nil {
			t.Fatalf("re-written file does not parse: %v\n%q", err, b2)
		}
		if b3 := p3.Bytes(); !bytes.Equal(b2, b3) {
			t.Fatalf("not stable:\n%q\n%q", b2, b3)
		}
		_, _ = p.ApplyPending(st)
	})
}
