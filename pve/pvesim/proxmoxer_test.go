package pvesim

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/testref"
)

// pythonWithProxmoxer returns /usr/bin/python3 when Debian's
// python3-proxmoxer is importable there. Without it the test skips, unless
// FELHOM_REQUIRE_REFERENCE is set (CI installs it), where it fails.
func pythonWithProxmoxer(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	why := ""
	if _, err := os.Stat(py); err != nil {
		why = py + " not found"
	} else if out, err := exec.Command(py, "-c", "import proxmoxer, requests").CombinedOutput(); err != nil {
		why = "python3-proxmoxer is not installed (apt-get install -y python3-proxmoxer): " + strings.TrimSpace(string(out))
	}
	if why != "" {
		if os.Getenv(testref.EnvRequire) != "" {
			t.Fatalf("%s, and %s is set", why, testref.EnvRequire)
		}
		t.Skip(why)
	}
	return py
}

// TestProxmoxerTalksToSim: a real PVE client nobody here wrote lists
// cluster resources, reads a config, sets memory, creates a snapshot and
// waits for its task, and gets PVE-shaped errors, then reads nextid,
// cluster and node status, the node's time, /nodes, a container's
// interfaces, storage.cfg, pools and the access lists and destroys a
// container, over HTTPS with the simulator's certificate as its only trust
// anchor.
func TestProxmoxerTalksToSim(t *testing.T) {
	py := pythonWithProxmoxer(t)
	s, err := New(baseInventory(), WithTaskDuration(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "sim.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/proxmoxer_check.py")
	cmd.Env = append(os.Environ(),
		"SIM_HOST="+u.Hostname(), "SIM_PORT="+u.Port(),
		"SIM_USER=admin@pve", "SIM_TOKEN_NAME=full", "SIM_TOKEN_VALUE=secret-admin",
		"SIM_CA_FILE="+ca)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("proxmoxer: %v\n%s", err, out)
	}
}
