package privileged

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFenceNoHTTP enforces DESIGN.md's fence from this side: privileged
// never speaks HTTP. No package it reaches (tests aside) may be net or
// net/http.
func TestFenceNoHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/felhom/felhom/privileged/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	seen := false
	for _, p := range pkgs {
		seen = seen || p == "github.com/felhom/felhom/privileged"
		if p == "net" || p == "net/http" {
			t.Errorf("privileged/... reaches %s", p)
		}
	}
	if !seen || len(pkgs) < 10 {
		t.Fatalf("go list listed %d packages without privileged itself; the check proves nothing", len(pkgs))
	}
}
