package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
)

const selftestSecret = "7c3e9d41-0a6b-4f2e-8d15-5e1f7a9b2c40"

// fakePVE is a small PVE for the selftest: one online and one offline node,
// container 100 on pve, and snapshot tasks that end with exit.
type fakePVE struct {
	t    *testing.T
	srv  *httptest.Server
	exit string // exit status of the snapshot-create task

	mu       sync.Mutex
	requests []string // "METHOD path" in order
	snapshot string   // name of the snapshot that exists, "" for none
	// perms is what GET /access/permissions answers: a token that may
	// plan but lacks most of what apply needs, unless grantAll.
	perms map[string]map[string]int
}

// grantAll gives the token every privilege felhom uses, on /.
func (f *fakePVE) grantAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := map[string]int{}
	for _, u := range plan.PrivilegeUses() {
		all[u.Name] = 1
	}
	f.perms["/"] = all
}

func newFakePVE(t *testing.T) *fakePVE {
	f := &fakePVE{t: t, exit: "OK", perms: map[string]map[string]int{
		"/vms/100":       {"VM.Snapshot": 0, "VM.Audit": 1, "VM.Config.Memory": 1},
		"/storage/local": {"Datastore.AllocateSpace": 1, "Datastore.Audit": 1},
		"/":              {"Sys.Audit": 0},
	}}
	mux := http.NewServeMux()
	data := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		json.NewEncoder(w).Encode(map[string]any{"data": v})
	}
	upid := func(typ string) string {
		return fmt.Sprintf("UPID:pve:0000377E:19E15146:5F3C0469:%s:100:felhom@pve!ops:", typ)
	}
	mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
		data(w, map[string]any{"version": "9.1.2", "release": "9.1", "repoid": "1d2c3b4a"})
	})
	mux.HandleFunc("GET /api2/json/nodes", func(w http.ResponseWriter, r *http.Request) {
		data(w, []map[string]any{
			{"node": "pve", "status": "online", "uptime": 90061, "maxcpu": 8},
			{"node": "pve2", "status": "offline"},
		})
	})
	mux.HandleFunc("GET /api2/json/nodes/pve/storage", func(w http.ResponseWriter, r *http.Request) {
		data(w, []map[string]any{
			{"storage": "local", "type": "dir", "content": "backup,iso,vztmpl", "active": 1, "total": 1000, "used": 250},
			{"storage": "local-lvm", "type": "lvmthin", "content": "rootdir,images", "active": 1, "total": 4000, "used": 1000},
			{"storage": "nas", "type": "nfs", "content": "backup", "active": 0},
		})
	})
	mux.HandleFunc("GET /api2/json/access/permissions", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		data(w, f.perms)
	})
	mux.HandleFunc("GET /api2/json/cluster/resources", func(w http.ResponseWriter, r *http.Request) {
		data(w, []map[string]any{
			{"id": "qemu/200", "type": "qemu", "vmid": 200, "node": "pve"},
			{"id": "lxc/100", "type": "lxc", "vmid": 100, "node": "pve"},
		})
	})
	mux.HandleFunc("POST /api2/json/nodes/pve/lxc/100/snapshot", func(w http.ResponseWriter, r *http.Request) {
		name := r.FormValue("snapname")
		if !strings.HasPrefix(name, "felhom-selftest-") {
			t.Errorf("snapshot name %q", name)
		}
		f.mu.Lock()
		if f.exit == pve.ExitOK {
			f.snapshot = name
		}
		f.mu.Unlock()
		data(w, upid("vzsnapshot"))
	})
	mux.HandleFunc("DELETE /api2/json/nodes/pve/lxc/100/snapshot/{name}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.PathValue("name") != f.snapshot {
			t.Errorf("deleting %q, but %q exists", r.PathValue("name"), f.snapshot)
		}
		f.snapshot = ""
		data(w, upid("vzdelsnapshot"))
	})
	mux.HandleFunc("GET /api2/json/nodes/pve/tasks/{upid}/status", func(w http.ResponseWriter, r *http.Request) {
		u := r.PathValue("upid")
		exit := "OK"
		if strings.Contains(u, ":vzsnapshot:") {
			exit = f.exitStatus()
		}
		data(w, map[string]any{"upid": u, "node": "pve", "status": "stopped", "exitstatus": exit})
	})
	mux.HandleFunc("GET /api2/json/nodes/pve/tasks/{upid}/log", func(w http.ResponseWriter, r *http.Request) {
		data(w, []map[string]any{{"n": 1, "t": "snapshot feature is not available"}, {"n": 2, "t": "TASK ERROR: " + f.exitStatus()}})
	})
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/api2/json"))
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "PVEAPIToken=felhom@pve!ops="+selftestSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePVE) exitStatus() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exit
}

// env points felhom at the fake through the environment, pinned to its
// certificate, the secret in a file.
func (f *fakePVE) env(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte(selftestSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(pve.EnvURL, f.srv.URL)
	t.Setenv(pve.EnvTokenID, "felhom@pve!ops")
	t.Setenv(pve.EnvTokenSecretFile, secret)
	t.Setenv(pve.EnvFingerprint, pve.CertFingerprint(f.srv.Certificate().Raw))
}

func (f *fakePVE) mutations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

func TestSelftestReport(t *testing.T) {
	f := newFakePVE(t)
	f.env(t)
	out, errOut, code := runFelhom(t, "selftest")
	// The token may plan but not apply: the verdict says so, and the
	// exit code too.
	if code != exitError || !strings.Contains(errOut, "the token cannot apply: it lacks VM.Config.CPU, VM.Config.Network, SDN.Use,") {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitError, errOut)
	}
	golden.Check(t, filepath.Join("testdata", "selftest-report.golden"), []byte(strings.ReplaceAll(out, f.srv.URL, "https://PVE")))
	if m := f.mutations(); len(m) != 0 {
		t.Errorf("the read-only report sent %v", m)
	}
	if strings.Contains(out+errOut, selftestSecret) {
		t.Error("secret in output")
	}
}

// TestSelftestVerdict: the report ends with whether the token can plan
// and apply; only a token that can apply exits 0.
func TestSelftestVerdict(t *testing.T) {
	for _, tt := range []struct {
		name        string
		perms       map[string]map[string]int // nil: every privilege on /
		code        int
		plan, apply string
	}{
		{"everything", nil, exitOK, "yes", "yes"},
		{"read only", map[string]map[string]int{"/": {"VM.Audit": 1, "Datastore.Audit": 1}}, exitError, "yes", "no, the token lacks VM.Config.CPU,"},
		{"nothing to read with", map[string]map[string]int{"/": {"VM.Snapshot": 1}}, exitError, "no, the token lacks VM.Audit, Datastore.Audit", "no, the token lacks VM.Audit, Datastore.Audit, VM.Config.CPU,"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePVE(t)
			if tt.perms == nil {
				f.grantAll()
			} else {
				f.perms = tt.perms
			}
			f.env(t)
			out, errOut, code := runFelhom(t, "selftest")
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			for _, want := range []string{
				"\nverdict:\n  plan only (felhom plan, validate, drift reports): " + tt.plan,
				"\n  apply (felhom apply, felhom daemon applying):      " + tt.apply,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestSelftestConfigFile(t *testing.T) {
	f := newFakePVE(t)
	cfg := filepath.Join(t.TempDir(), "felhom.yaml")
	body := fmt.Sprintf("url: %s\ntoken_id: felhom@pve!ops\ntoken_secret: %s\nfingerprint: %s\n",
		f.srv.URL, selftestSecret, pve.CertFingerprint(f.srv.Certificate().Raw))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f.grantAll()
	out, errOut, code := runFelhom(t, "selftest", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "version: 9.1.2") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestSelftestTask(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"node given", []string{"selftest", "--task", "100", "--node", "pve"}},
		{"node looked up", []string{"selftest", "--task", "100"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePVE(t)
			f.grantAll()
			f.env(t)
			out, errOut, code := runFelhom(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			for _, want := range []string{
				"create snapshot  UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ops:\n    exit status: OK\n",
				"delete snapshot  UPID:pve:0000377E:19E15146:5F3C0469:vzdelsnapshot:100:felhom@pve!ops:\n    exit status: OK\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			m := f.mutations()
			if len(m) != 2 || m[0] != "POST /nodes/pve/lxc/100/snapshot" || !strings.HasPrefix(m[1], "DELETE /nodes/pve/lxc/100/snapshot/felhom-selftest-") {
				t.Errorf("mutations %v", m)
			}
			f.mu.Lock()
			left := f.snapshot
			f.mu.Unlock()
			if left != "" {
				t.Errorf("snapshot %s left behind", left)
			}
		})
	}
}

// TestSelftestTaskFails: a failed snapshot task is reported with its exit
// status and log tail, and nothing is deleted (PVE removed the partial
// snapshot itself).
func TestSelftestTaskFails(t *testing.T) {
	f := newFakePVE(t)
	f.mu.Lock()
	f.exit = "snapshot feature is not available"
	f.mu.Unlock()
	f.env(t)
	out, errOut, code := runFelhom(t, "selftest", "--task", "100")
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out, "exit status: snapshot feature is not available\n    log tail:\n") || !strings.Contains(errOut, "snapshot feature is not available") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if m := f.mutations(); len(m) != 1 {
		t.Errorf("mutations %v, want only the create", m)
	}
}

func TestSelftestRefuses(t *testing.T) {
	f := newFakePVE(t)
	f.env(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"task without a value", []string{"selftest", "--task"}, exitError, "flag needs an argument"},
		{"task zero", []string{"selftest", "--task", "0"}, exitInvalid, "want the VMID"},
		{"node without task", []string{"selftest", "--node", "pve"}, exitInvalid, "--node needs --task"},
		{"unknown container", []string{"selftest", "--task", "999"}, exitError, "ct 999: not in the cluster"},
		{"a VM, not a container", []string{"selftest", "--task", "200"}, exitError, "is a qemu, not a container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runFelhom(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.wantErr)
			}
		})
	}
	if m := f.mutations(); len(m) != 0 {
		t.Errorf("refused runs sent %v", m)
	}
}

func TestSelftestFailures(t *testing.T) {
	f := newFakePVE(t)
	f.env(t)
	t.Run("wrong secret", func(t *testing.T) {
		t.Setenv(pve.EnvTokenSecretFile, "")
		t.Setenv(pve.EnvTokenSecret, "wrong")
		out, errOut, code := runFelhom(t, "selftest")
		if code != exitError {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
		// Each thing said once: the report's subject, then the request.
		golden.Check(t, filepath.Join("testdata", "selftest-auth-failed.golden"), []byte(strings.ReplaceAll(out+"stderr:\n"+errOut, f.srv.URL, "https://PVE")))
	})
	t.Run("wrong fingerprint", func(t *testing.T) {
		t.Setenv(pve.EnvFingerprint, strings.Repeat("00:", 31)+"00")
		out, errOut, code := runFelhom(t, "selftest")
		if code != exitError || !strings.Contains(out, "does not match the pinned fingerprint") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
		if strings.Contains(out+errOut, selftestSecret) {
			t.Error("secret in output")
		}
	})
	t.Run("no config", func(t *testing.T) {
		t.Setenv(pve.EnvURL, "")
		_, errOut, code := runFelhom(t, "selftest")
		if code != exitError || !strings.Contains(errOut, "url is required") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

// TestSelftestResizePrivileges: the overview names resize under the
// privilege PVE's schema requires for PUT .../resize (lxc-endpoints.json),
// and under any other privilege only with the note that PVE's code, not the
// schema, checks it (pve-container resize_vm passes the disk parameter to
// check_ct_modify_config_perm, which asks VM.Config.Options for it, and
// checks Datastore.AllocateSpace on the volume's storage).
func TestSelftestResizePrivileges(t *testing.T) {
	var doc struct {
		Endpoints []struct {
			Path, Method string
			Permissions  struct {
				Check []any `json:"check"`
			} `json:"permissions"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(testref.Read(t, "pve-api/lxc-endpoints.json"), &doc); err != nil {
		t.Fatal(err)
	}
	schema := map[string]bool{}
	for _, e := range doc.Endpoints {
		if e.Method != "PUT" || e.Path != "/nodes/{node}/lxc/{vmid}/resize" {
			continue
		}
		if len(e.Permissions.Check) < 3 {
			t.Fatalf("resize permissions %v", e.Permissions.Check)
		}
		privs, _ := e.Permissions.Check[2].([]any)
		for _, p := range privs {
			schema[fmt.Sprint(p)] = true
		}
	}
	if len(schema) == 0 {
		t.Fatal("no schema privilege for PUT .../resize")
	}
	needs := map[string]bool{}
	for _, p := range plan.Needs(plan.UseResize, 100, "local-lvm") {
		needs[p.Name] = true
	}
	for priv := range schema {
		if !needs[priv] {
			t.Errorf("%s (the schema's privilege for resize) is not among resize's needs %v", priv, needs)
		}
	}
	overview := map[string]string{}
	for _, u := range plan.PrivilegeUses() {
		overview[u.Name] = strings.Join(u.For, "; ")
	}
	for priv := range needs {
		why := overview[priv]
		if !strings.Contains(why, "resize") {
			t.Errorf("%s (needed for resize): the overview's %q does not name resize", priv, why)
		}
		if !schema[priv] && !strings.Contains(why, "PVE's code") {
			t.Errorf("%s: %q names resize, which the schema does not require it for, without saying PVE's code checks it", priv, why)
		}
	}
}

func TestSelftestPrivileged(t *testing.T) {
	for _, tt := range []struct {
		s    privileged.Status
		want string
	}{
		{privileged.Status{}, "not enabled: root-only changes are planned blocked"},
		{privileged.Status{Enabled: true, UID: 1000, Node: "pve1", PCT: "/usr/sbin/pct"}, "enabled, uid 1000 on node pve1, but it cannot write: felhom runs as uid 1000, not root"},
		{privileged.Status{Enabled: true, NodeErr: "host name: boom"}, "enabled, but the node is unknown: host name: boom"},
		{privileged.Status{Enabled: true, UID: 0, Node: "pve1", PCT: "/usr/sbin/pct"}, "ready: /usr/sbin/pct as root on node pve1 writes the containers of node pve1 only"},
	} {
		var b strings.Builder
		selftestPrivileged(&b, tt.s)
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%+v: %s", tt.s, b.String())
		}
	}
}
