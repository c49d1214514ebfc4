package pvesim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envRequireAnsible makes TestAnsibleTalksToSim fail instead of skip when
// ansible-playbook or community.general's proxmox modules are missing
// (.ci/run sets it after installing Debian's ansible).
const envRequireAnsible = "FELHOM_REQUIRE_ANSIBLE"

// ansiblePlaybook returns the path of ansible-playbook when it and
// community.general's proxmox modules (with python3-proxmoxer) are
// installed; otherwise the test skips, or fails under envRequireAnsible.
func ansiblePlaybook(t *testing.T) string {
	t.Helper()
	why := ""
	pb, err := exec.LookPath("ansible-playbook")
	if err != nil {
		why = "ansible-playbook not found (apt-get install -y ansible)"
	} else if out, err := exec.Command("ansible-doc", "-t", "module", "community.general.proxmox_domain_info").CombinedOutput(); err != nil {
		why = "community.general's proxmox modules are not installed: " + strings.TrimSpace(string(out))
	} else if out, err := exec.Command("/usr/bin/python3", "-c", "import proxmoxer, requests").CombinedOutput(); err != nil {
		why = "python3-proxmoxer is not installed: " + strings.TrimSpace(string(out))
	}
	if why != "" {
		if os.Getenv(envRequireAnsible) != "" {
			t.Fatalf("%s, and %s is set", why, envRequireAnsible)
		}
		t.Skip(why)
	}
	return pb
}

// TestAnsibleTalksToSim (issue 9): Debian 12's Ansible runs a playbook of
// community.general's proxmox modules against the simulator over HTTPS
// with an API token and the simulator's certificate as the only trust
// anchor: the realm, group, user, storage and task info modules, and the
// proxmox (lxc) and proxmox_snap modules stopping, starting, restarting,
// snapshotting and destroying containers, each answer checked in the
// playbook as PVE would give it.
func TestAnsibleTalksToSim(t *testing.T) {
	pb := ansiblePlaybook(t)
	s, err := New(baseInventory())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "sim.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pb, "-i", "localhost,", "testdata/ansible_check.yml")
	cmd.Env = append(os.Environ(),
		"SIM_API_HOST="+strings.TrimPrefix(srv.URL, "https://"), "SIM_TOKEN_VALUE=secret-admin",
		"REQUESTS_CA_BUNDLE="+ca,
		"HOME="+dir, "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_LOCALHOST_WARNING=0", "ANSIBLE_INVENTORY_UNPARSED_WARNING=0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "failed=0") {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	counts := s.RequestCounts()
	for _, k := range []string{"GET /access/domains", "GET /access/groups", "GET /access/users", "GET /storage", "GET /storage/{storage}",
		"DELETE /nodes/{node}/lxc/{vmid}", "GET /nodes/{node}/tasks", "POST /nodes/{node}/lxc/{vmid}/snapshot"} {
		if counts[k] == 0 {
			t.Errorf("the playbook never called %s (counts %v)", k, counts)
		}
	}
}
