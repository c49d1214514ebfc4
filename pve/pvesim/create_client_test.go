package pvesim

import (
	"context"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
)

func confText(t *testing.T, s *Sim, vmid int) string {
	t.Helper()
	c, ok := s.ConfigText(vmid)
	if !ok {
		t.Fatalf("ct %d missing", vmid)
	}
	return c
}

// TestClientCreatesAndReadsNextID drives pve.Client.Create and NextID
// against the simulator: a template create with password and keys, a
// vmid held by a VM refused by both.
func TestClientCreatesAndReadsNextID(t *testing.T) {
	e := newClientEnv(t, createInventory())
	c := e.admin()
	ctx := context.Background()
	id, err := c.NextID(ctx, 0)
	if err != nil || id != 104 {
		t.Fatalf("nextid: %d %v", id, err)
	}
	if _, err := c.NextID(ctx, 300); err == nil {
		t.Errorf("nextid 300 (a VM) accepted")
	}
	no := false
	upid, err := c.Create(ctx, "pve1", pve.CreateOptions{VMID: id, Template: debTmpl, Storage: "local-lvm", Unprivileged: &no,
		Password: "secret1", SSHPublicKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2x6sbIjJ0qjMuQCJ7+RrZ/CnDnbvYwKIhUBMJJzjzu u@h", Start: true,
		Set: map[string]string{"hostname": "made", "memory": "256"}})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.FinishTasks()
	if st, err := c.TaskStatus(ctx, upid); err != nil || st.ExitStatus != "OK" || st.Type != "vzcreate" {
		t.Fatalf("task %+v %v", st, err)
	}
	conf := confText(t, e.sim, id)
	if !strings.Contains(conf, "hostname: made\n") || !strings.Contains(conf, "memory: 256\n") || strings.Contains(conf, "unprivileged") {
		t.Errorf("created:\n%s", conf)
	}
	if !e.sim.Running(id) {
		t.Errorf("start: not running")
	}
	if _, err := c.Create(ctx, "pve1", pve.CreateOptions{VMID: 300, Template: debTmpl, Storage: "local-lvm"}); err == nil || !strings.Contains(err.Error(), "VM 300 already exists on node 'pve2'") {
		t.Errorf("create on a VM's vmid: %v", err)
	}
}
