package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EConfigDiscovery: the built binary finds its connection in
// --config, else $FELHOM_CONFIG, else ./felhom.yaml, with no FELHOM_PVE_*
// variable set.
func TestE2EConfigDiscovery(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	get := func(key string) string {
		for _, kv := range e.env {
			if v, ok := strings.CutPrefix(kv, key+"="); ok {
				return v
			}
		}
		t.Fatalf("no %s in the test environment", key)
		return ""
	}
	good := fmt.Sprintf("url: %s\ntoken_id: %s\ntoken_secret: %s\nfingerprint: %q\n",
		e.srv.URL, get("FELHOM_PVE_TOKEN_ID"), get("FELHOM_PVE_TOKEN_SECRET"), e.srv.Fingerprint)
	// A closed port: a run that reads this file fails naming it.
	bad := strings.Replace(good, e.srv.URL, "https://127.0.0.1:1", 1)

	specs := t.TempDir()
	writeSpec(t, specs, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	cwd := t.TempDir()
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(cwd, "felhom.yaml"), good)
	badFile := filepath.Join(t.TempDir(), "bad.yaml")
	write(badFile, bad)
	goodFile := filepath.Join(t.TempDir(), "good.yaml")
	write(goodFile, good)

	var env []string
	for _, kv := range e.env {
		if !strings.HasPrefix(kv, "FELHOM_PVE_") {
			env = append(env, kv)
		}
	}
	run := func(extraEnv []string, args ...string) (string, string, int) {
		saved := e.env
		e.env = append(append([]string(nil), env...), extraEnv...)
		defer func() { e.env = saved }()
		return e.run(cwd, args...)
	}

	if out, errOut, code := run(nil, "plan", specs); code != exitOK || !strings.Contains(out, "ct 101 web") {
		t.Errorf("./felhom.yaml: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := run([]string{"FELHOM_CONFIG=" + badFile}, "plan", specs); code != exitError || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("$FELHOM_CONFIG over ./felhom.yaml: exit %d, want %d naming the file's URL\n%s", code, exitError, errOut)
	}
	if out, errOut, code := run([]string{"FELHOM_CONFIG=" + badFile}, "plan", "--config", goodFile, specs); code != exitOK || !strings.Contains(out, "ct 101 web") {
		t.Errorf("--config over $FELHOM_CONFIG: exit %d\n%s%s", code, out, errOut)
	}
}
