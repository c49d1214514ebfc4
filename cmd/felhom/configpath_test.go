package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindConfig: --config wins, then $FELHOM_CONFIG, then ./felhom.yaml,
// then /etc/felhom/felhom.yaml (here a temp folder); none found is no config.
func TestFindConfig(t *testing.T) {
	tmp := t.TempDir()
	work := filepath.Join(tmp, "work")
	etc := filepath.Join(tmp, "etc", "felhom.yaml")
	env := filepath.Join(tmp, "env.yaml")
	for _, p := range []string{work + "/felhom.yaml", etc, env} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("url: https://pve1:8006\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	getenv := func(v string) func(string) string {
		return func(k string) string {
			if k == "FELHOM_CONFIG" {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		name, flag, env, cwd, etc, want string
	}{
		{"flag wins", "/x/flag.yaml", env, work, etc, "/x/flag.yaml"},
		{"env next", "", env, work, etc, env},
		{"then ./felhom.yaml", "", "", work, etc, filepath.Join(work, "felhom.yaml")},
		{"then /etc/felhom", "", "", empty, etc, etc},
		{"none", "", "", empty, filepath.Join(tmp, "missing.yaml"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := findConfig(c.flag, getenv(c.env), c.cwd, c.etc); got != c.want {
				t.Errorf("findConfig = %q, want %q", got, c.want)
			}
		})
	}
}
