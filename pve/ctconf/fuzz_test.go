package ctconf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/felhom/felhom/internal/testref"
)

// FuzzParse: Parse never panics, and what Bytes writes parses again to the
// same bytes (PVE's write is a fixed point of parse and write).
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
		if b2 := p2.Bytes(); !bytes.Equal(b1, b2) {
			t.Fatalf("not stable:\n%q\n%q", b1, b2)
		}
	})
}
