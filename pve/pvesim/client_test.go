package pvesim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
)

// clientEnv is a simulator served over HTTPS for real pve.Clients.
type clientEnv struct {
	t   *testing.T
	sim *Sim
	srv *Server
}

func newClientEnv(t *testing.T, inv *Inventory, opts ...Option) *clientEnv {
	t.Helper()
	s, err := New(inv, append([]Option{WithSeed(7)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &clientEnv{t: t, sim: s, srv: srv}
}

// client returns a pve.Client pinned to the server's certificate that
// authenticates with tokenID and secret; mod adjusts its config.
func (ce *clientEnv) client(tokenID, secret string, mod func(*pve.Config)) *pve.Client {
	ce.t.Helper()
	cfg := pve.Config{URL: ce.srv.URL, TokenID: tokenID, TokenSecret: pve.Secret(secret), Fingerprint: ce.srv.Fingerprint, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := pve.New(cfg, pve.WithTaskPoll(time.Millisecond, 20*time.Millisecond), pve.WithRetryBackoff(time.Millisecond))
	if err != nil {
		ce.t.Fatal(err)
	}
	return c
}

func (ce *clientEnv) admin() *pve.Client { return ce.client("admin@pve!full", "secret-admin", nil) }

func apiError(t *testing.T, err error) *pve.APIError {
	t.Helper()
	var ae *pve.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an *pve.APIError, got %T %v", err, err)
	}
	return ae
}

// TestClientSeesPVEErrors: the simulator's refusals reach the pve client
// as the typed errors a real PVE gives, in both error-body forms.
func TestClientSeesPVEErrors(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "current form"
		var opts []Option
		if legacy {
			name = "pre-8.4 form"
			opts = append(opts, WithLegacyErrors())
		}
		t.Run(name, func(t *testing.T) {
			ce := newClientEnv(t, baseInventory(), opts...)
			c := ce.admin()
			ctx := context.Background()

			_, err := c.Config(ctx, "pve1", 999, false)
			if !errors.Is(err, pve.ErrNotFound) || apiError(t, err).StatusCode != 500 {
				t.Errorf("missing CT: %v", err)
			}
			_, err = c.SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"memory": "2048"}, Digest: strings.Repeat("0", 40)})
			if !errors.Is(err, pve.ErrStaleDigest) {
				t.Errorf("stale digest: %v", err)
			}
			if err := ce.sim.HoldLock(100, "backup", time.Hour); err != nil {
				t.Fatal(err)
			}
			_, err = c.SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"memory": "2048"}})
			if !errors.Is(err, pve.ErrLocked) || apiError(t, err).Lock != "backup" {
				t.Errorf("locked: %v", err)
			}
			_, err = c.SetConfig(ctx, "pve1", 101, pve.ConfigChange{Set: map[string]string{"memory": "lots"}})
			if !errors.Is(err, pve.ErrParam) || apiError(t, err).Params["memory"] != "type check ('integer') failed - got 'lots'" {
				t.Errorf("param: %v", err)
			}
			_, err = c.SetConfig(ctx, "pve1", 101, pve.ConfigChange{Set: map[string]string{"mp1": "/srv,mp=/srv"}})
			if !errors.Is(err, pve.ErrPermission) || !strings.Contains(apiError(t, err).Message, "mount point type bind is only allowed for root@pam") {
				t.Errorf("bind mount: %v", err)
			}
			_, err = ce.client("viewer@pve!ro", "secret-ro", nil).SetConfig(ctx, "pve1", 101, pve.ConfigChange{Set: map[string]string{"memory": "600"}})
			if ae := apiError(t, err); !errors.Is(err, pve.ErrPermission) || ae.PermPath != "/vms/101" || !strings.Contains(ae.Privilege, "VM.Config.Memory") {
				t.Errorf("403: %v", err)
			}
			_, err = ce.client("admin@pve!full", "wrong", nil).Version(ctx)
			if !errors.Is(err, pve.ErrAuth) {
				t.Errorf("401: %v", err)
			}
		})
	}
}

// TestClientTasks: snapshot, resize, vzdump through the client's WaitTask,
// with steered outcomes: failure (a *pve.TaskError with the log tail),
// warnings (success with warnings), a slow task.
func TestClientTasks(t *testing.T) {
	ce := newClientEnv(t, baseInventory(), WithTaskDuration(20*time.Millisecond))
	c := ce.admin()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	upid, err := c.CreateSnapshot(ctx, "pve1", 100, "before", "felhom")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.WaitTask(ctx, upid); err != nil || res.ExitStatus != "OK" {
		t.Fatalf("snapshot: %v %v", res, err)
	}
	snaps, err := c.Snapshots(ctx, "pve1", 100)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("snapshots: %v %v", snaps, err)
	}

	ce.sim.SetTaskOutcome(TaskOutcome{Type: "vzdump", Fail: "got timeout", Count: 1})
	upid, err = c.Vzdump(ctx, "pve1", pve.VzdumpOptions{VMID: 100, Storage: "nas", Mode: "snapshot", Compress: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitTask(ctx, upid)
	var te *pve.TaskError
	if !errors.As(err, &te) || te.ExitStatus != "got timeout" || len(te.LogTail) == 0 || te.LogTail[len(te.LogTail)-1] != "TASK ERROR: got timeout" {
		t.Fatalf("steered failure: %#v", err)
	}
	if l, _ := ce.sim.ConfigText(100); strings.Contains(l, "lock:") {
		t.Fatalf("failed vzdump left a lock:\n%s", l)
	}

	ce.sim.SetTaskOutcome(TaskOutcome{Type: "resize", Warnings: 2, Count: 1})
	upid, err = c.Resize(ctx, "pve1", 100, "rootfs", "+1G", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.WaitTask(ctx, upid)
	if err != nil || res.Warnings != 2 || res.ExitStatus != "WARNINGS: 2" {
		t.Fatalf("warnings: %+v %v", res, err)
	}

	ce.sim.SetTaskOutcome(TaskOutcome{Type: "vzstart", Duration: 300 * time.Millisecond, Count: 1})
	upid, err = c.Start(ctx, "pve1", 101)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.TaskStatus(ctx, upid); err != nil || st.Status != "running" {
		t.Fatalf("slow task should still run: %+v %v", st, err)
	}
	if res, err := c.WaitTask(ctx, upid); err != nil || res.ExitStatus != "OK" {
		t.Fatalf("slow task: %+v %v", res, err)
	}
}

// TestClientFaults: every injected fault kind reaches the pve client as the
// error a real PVE failure gives.
func TestClientFaults(t *testing.T) {
	ctx := context.Background()
	const cfgPath = "/nodes/{node}/lxc/{vmid}/config"

	t.Run("status 500 with PVE's message", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Method: "PUT", Path: cfgPath, Kind: FaultStatus, Status: 500, Message: "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", Count: 1})
		_, err := ce.admin().SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"cores": "3"}})
		if !errors.Is(err, pve.ErrLocked) || apiError(t, err).StatusCode != 500 {
			t.Fatalf("got %v", err)
		}
		if _, err := ce.admin().SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"cores": "3"}}); err != nil {
			t.Fatalf("count 1: second PUT should pass: %v", err)
		}
	})
	t.Run("595 on a GET is retried", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Method: "GET", Path: cfgPath, Kind: FaultStatus, Status: 595, Message: "Connection refused", Count: 2})
		if _, err := ce.admin().Config(ctx, "pve1", 100, false); err != nil {
			t.Fatalf("GET after two 595: %v", err)
		}
		if n := ce.sim.RequestCounts()["GET "+cfgPath]; n != 3 {
			t.Errorf("requests %d, want 3", n)
		}
	})
	t.Run("596 on a POST is not retried", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Method: "POST", Path: "/nodes/pve1/lxc/*/snapshot", Kind: FaultStatus, Status: 596, Message: "Connection timed out"})
		_, err := ce.admin().CreateSnapshot(ctx, "pve1", 100, "x1", "")
		if ae := apiError(t, err); ae.StatusCode != 596 || ae.Message != "Connection timed out" {
			t.Fatalf("got %v", err)
		}
		if n := ce.sim.RequestCounts()["POST /nodes/{node}/lxc/{vmid}/snapshot"]; n != 1 {
			t.Errorf("requests %d, want 1", n)
		}
	})
	t.Run("reset connection", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Path: cfgPath, Kind: FaultReset, Count: 1})
		if _, err := ce.admin().Config(ctx, "pve1", 100, false); err != nil {
			t.Fatalf("GET is retried after a reset: %v", err)
		}
		ce.sim.InjectFault(Fault{Method: "PUT", Path: cfgPath, Kind: FaultReset, Count: 1})
		_, err := ce.admin().SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"cores": "3"}})
		var ae *pve.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("PUT after reset: want a transport error, got %v", err)
		}
		if c, _ := ce.sim.ConfigText(100); strings.Contains(c, "cores: 3") {
			t.Fatal("a reset request must not be applied")
		}
		if n := ce.sim.RequestCounts()["PUT "+cfgPath]; n != 1 {
			t.Errorf("PUT sent %d times, want 1 (never retried)", n)
		}
	})
	t.Run("hang until the client gives up", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Method: "PUT", Path: cfgPath, Kind: FaultHang})
		c := ce.client("admin@pve!full", "secret-admin", func(cfg *pve.Config) { cfg.Timeout = 200 * time.Millisecond })
		_, err := c.SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"cores": "3"}})
		var ae *pve.APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(strings.ToLower(err.Error()), "timeout") && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want a timeout, got %v", err)
		}
	})
	t.Run("rate", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory())
		ce.sim.InjectFault(Fault{Method: "GET", Path: "/version", Kind: FaultStatus, Status: 500, Message: "flaky", Rate: 0.5})
		c := ce.client("admin@pve!full", "secret-admin", func(cfg *pve.Config) { cfg.Retries = -1 })
		failed := 0
		for i := 0; i < 40; i++ {
			if _, err := c.Version(ctx); err != nil {
				failed++
			}
		}
		if failed == 0 || failed == 40 {
			t.Fatalf("rate 0.5 failed %d of 40", failed)
		}
	})
	t.Run("latency", func(t *testing.T) {
		ce := newClientEnv(t, baseInventory(), WithLatency(Latency{Fixed: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}))
		start := time.Now()
		if _, err := ce.admin().Version(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Fatalf("answered after %v, before the fixed latency", d)
		}
	})
}

// TestRequestCounts: per endpoint, by method and path template.
func TestRequestCounts(t *testing.T) {
	e := newEnv(t, baseInventory())
	e.ok("GET", "/nodes/pve1/lxc/100/config")
	e.ok("GET", "/nodes/pve1/lxc/101/config")
	e.ok("PUT", "/nodes/pve1/lxc/101/config", "memory", "600")
	e.call("GET", "/nodes/pve1/nothing")
	got := e.sim.RequestCounts()
	want := map[string]int{"GET /nodes/{node}/lxc/{vmid}/config": 2, "PUT /nodes/{node}/lxc/{vmid}/config": 1, "GET ?": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	e.sim.ResetRequestCounts()
	if len(e.sim.RequestCounts()) != 0 {
		t.Error("reset")
	}
}

// TestClientReadsEverything: every method of the project's pve client
// decodes the simulator's answers.
func TestClientReadsEverything(t *testing.T) {
	ce := newClientEnv(t, pruneInventory())
	c := ce.admin()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	v, err := c.Version(ctx)
	must("version", err)
	if v.Release != "9.1" {
		t.Errorf("version %+v", v)
	}
	nt, err := c.NodeTime(ctx, "pve1")
	must("node time", err)
	loc, err := nt.Location()
	must("node time zone", err)
	if _, off := time.Unix(nt.Time, 0).In(loc).Zone(); nt.LocalTime != nt.Time+int64(off) || nt.Time != ce.sim.Clock().Now().Unix() {
		t.Errorf("node time %+v (zone %v)", nt, loc)
	}
	nodes, err := c.Nodes(ctx)
	must("nodes", err)
	res, err := c.ClusterResources(ctx, "vm")
	must("resources", err)
	cts, err := c.Containers(ctx, "pve1")
	must("containers", err)
	if len(nodes) != 2 || len(res) != 5 || len(cts) != 4 {
		t.Errorf("nodes %d, resources %d, containers %d", len(nodes), len(res), len(cts))
	}
	cfg, err := c.Config(ctx, "pve1", 100, true)
	must("config", err)
	if cfg["memory"] != "1024" || len(cfg.Digest()) != 40 {
		t.Errorf("config %v", cfg)
	}
	_, err = c.SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"nameserver": "1.1.1.1"}, Digest: cfg.Digest()})
	must("set config", err)
	_, err = c.Pending(ctx, "pve1", 100)
	must("pending", err)
	_, err = c.CurrentStatus(ctx, "pve1", 100)
	must("status", err)
	_, err = c.Storages(ctx, "pve1")
	must("storages", err)
	vols, err := c.StorageContent(ctx, "pve1", "nas", pve.ContentQuery{Content: "backup", VMID: 300})
	must("content", err)
	marks, err := c.PruneBackupsDryRun(ctx, "pve1", "nas", pve.PruneQuery{PruneBackups: "keep-last=1", VMID: 300})
	must("prune", err)
	if len(vols) != 7 || len(marks) != 7 {
		t.Errorf("volumes %d, prune entries %d", len(vols), len(marks))
	}
	text, err := c.ExtractConfig(ctx, "pve1", vols[0].VolID)
	must("extractconfig", err)
	if !strings.Contains(text, "rootfs: ") {
		t.Errorf("extractconfig %s: %q", vols[0].VolID, text)
	}
	_, err = c.Permissions(ctx, "/vms/100")
	must("permissions", err)
	upid, err := c.PruneBackups(ctx, "pve1", "nas", pve.PruneQuery{PruneBackups: "keep-last=1", VMID: 300, Type: "lxc"})
	must("prune", err)
	if _, err := c.WaitTask(ctx, upid); err != nil {
		t.Fatalf("prune task: %v", err)
	}
	if vols, _ := c.StorageContent(ctx, "pve1", "nas", pve.ContentQuery{Content: "backup", VMID: 300}); len(vols) != 3 {
		t.Errorf("after prune keep-last=1 of lxc 300: %d backups (want the kept, the protected and the qemu one)", len(vols))
	}

	wait := func(what string, upid pve.UPID, err error) {
		t.Helper()
		must(what, err)
		_, err = c.WaitTask(ctx, upid)
		must(what+" task", err)
	}
	upid, err = c.CreateSnapshot(ctx, "pve1", 100, "s1", "")
	wait("snapshot", upid, err)
	upid, err = c.RollbackSnapshot(ctx, "pve1", 100, "s1", true)
	wait("rollback", upid, err)
	upid, err = c.DeleteSnapshot(ctx, "pve1", 100, "s1", false)
	wait("delete snapshot", upid, err)
	upid, err = c.Reboot(ctx, "pve1", 100)
	wait("reboot", upid, err)
	upid, err = c.Shutdown(ctx, "pve1", 100)
	wait("shutdown", upid, err)
	upid, err = c.Vzdump(ctx, "pve1", pve.VzdumpOptions{VMID: 100, Storage: "nas", Compress: "zstd", NotesTemplate: "{{guestname}}", Protected: true})
	wait("vzdump", upid, err)
	st, err := c.TaskStatus(ctx, upid)
	must("task status", err)
	lines, err := c.TaskLog(ctx, upid, 0, 0)
	must("task log", err)
	if st.Status != "stopped" || len(lines) == 0 || lines[len(lines)-1].T != "TASK OK" {
		t.Errorf("task %+v, log %v", st, lines)
	}
	backups, err := c.StorageContent(ctx, "pve1", "nas", pve.ContentQuery{Content: "backup", VMID: 100})
	must("content", err)
	if len(backups) != 1 {
		t.Fatalf("backups of 100: %v", backups)
	}
	upid, err = c.Restore(ctx, "pve1", pve.RestoreOptions{VMID: 160, Archive: backups[0].VolID, Storage: "local-lvm", Unique: true})
	wait("restore", upid, err)
	upid, err = c.Start(ctx, "pve1", 160)
	wait("start", upid, err)
	upid, err = c.Stop(ctx, "pve1", 160)
	wait("stop", upid, err)
}
