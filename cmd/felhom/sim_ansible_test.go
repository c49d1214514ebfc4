package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
)

// TestSimServesAnsible (issue 9): `felhom sim` serves Debian 12's Ansible
// (community.general's proxmox modules) over HTTPS with an API token. The
// certificate is fetched once and accepted only if it has the fingerprint
// the banner printed, then handed to Ansible's requests as its only CA.
// Without ansible the test skips; FELHOM_REQUIRE_ANSIBLE (set by .ci/run)
// makes that a failure.
func TestSimServesAnsible(t *testing.T) {
	pb, err := exec.LookPath("ansible-playbook")
	if err == nil {
		err = exec.Command("ansible-doc", "-t", "module", "community.general.proxmox").Run()
	}
	if err != nil {
		if os.Getenv("FELHOM_REQUIRE_ANSIBLE") != "" {
			t.Fatalf("ansible with community.general is not installed (%v), and FELHOM_REQUIRE_ANSIBLE is set", err)
		}
		t.Skipf("ansible with community.general is not installed: %v", err)
	}
	banner, stop := runSimAsync(t, simOptions{inventory: "../../examples/sim/inventory.yaml", listen: "127.0.0.1:0"})
	defer stop()
	u, err := url.Parse(strings.Fields(banner["URL"])[0])
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) // checked against the banner's fingerprint below
	if err != nil {
		t.Fatal(err)
	}
	cert := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if fp := pve.CertFingerprint(cert.Raw); fp != banner["fingerprint"] {
		t.Fatalf("served certificate %s, banner %s", fp, banner["fingerprint"])
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "sim.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pb, "-i", "localhost,", "testdata/sim_ansible.yml")
	cmd.Env = append(os.Environ(), "SIM_API_HOST="+u.Host, "REQUESTS_CA_BUNDLE="+ca,
		"HOME="+dir, "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_LOCALHOST_WARNING=0", "ANSIBLE_INVENTORY_UNPARSED_WARNING=0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "failed=0") {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
}
