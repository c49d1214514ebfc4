package pvesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testStart is the manual clock's start in tests.
var testStart = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// baseInventory is the inventory most tests start from: node pve1 with
// snapshot-capable (lvmthin, zfspool) and incapable (dir, nfs) storages,
// node pve2, and tokens with different privileges.
func baseInventory() *Inventory {
	inv := NewInventory("lab")
	n := inv.AddNode("pve1")
	n.AddStorage("local", "dir", "backup", "vztmpl", "rootdir")
	n.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	n.AddStorage("tank", "zfspool", "rootdir", "images")
	nas := n.AddStorage("nas", "nfs", "backup")
	nas.Shared = true
	n.AddContainer(100, true, "arch: amd64\ncores: 2\nhostname: web\nmemory: 1024\nmp0: local-lvm:vm-100-disk-1,mp=/srv,backup=1,size=4G\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth\nostype: debian\nrootfs: local-lvm:vm-100-disk-0,size=8G\nswap: 512\nunprivileged: 1\n")
	n.AddContainer(101, false, "arch: amd64\nhostname: media\nmemory: 512\nmp0: /tank/media,mp=/media\nostype: debian\nrootfs: local-lvm:vm-101-disk-0,size=8G\nunprivileged: 1\n")
	n.AddContainer(102, false, "arch: amd64\nhostname: dns\nmemory: 256\nostype: alpine\nrootfs: local:102/vm-102-disk-0.raw,size=2G\n")
	n.AddContainer(103, false, "arch: amd64\nhostname: db\nmemory: 2048\nostype: debian\nrootfs: tank:subvol-103-disk-0,size=16G\nunprivileged: 1\n")
	p2 := inv.AddNode("pve2")
	p2.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	nas2 := p2.AddStorage("nas", "nfs", "backup")
	nas2.Shared = true
	p2.AddContainer(200, true, "arch: amd64\nhostname: other\nmemory: 512\nostype: debian\nrootfs: local-lvm:vm-200-disk-0,size=8G\n")

	inv.AddUser("admin@pve", Role("/", "Administrator")).AddToken("full", "secret-admin", false)
	inv.AddUser("ops@pve", Role("/vms", "PVEVMAdmin"), Role("/storage", "PVEDatastoreAdmin"), Role("/nodes", "PVEAuditor"), Role("/sdn", "PVESDNUser")).
		AddToken("ci", "secret-ci", false).
		AddToken("mem", "secret-mem", true, Privs("/vms/100", "VM.Config.Memory", "VM.Audit"))
	inv.AddUser("viewer@pve", Role("/", "PVEAuditor")).AddToken("ro", "secret-ro", false)
	return inv
}

// env is a simulator behind an httptest server with a token to call it.
type env struct {
	t     *testing.T
	sim   *Sim
	url   string
	token string
}

func newEnv(t *testing.T, inv *Inventory, opts ...Option) *env {
	t.Helper()
	opts = append([]Option{WithClock(ManualClock(testStart)), WithSeed(1)}, opts...)
	s, err := New(inv, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); srv.Close() })
	return &env{t: t, sim: s, url: srv.URL, token: "admin@pve!full=secret-admin"}
}

// as returns a copy of e that authenticates with another token.
func (e *env) as(token string) *env { c := *e; c.token = token; return &c }

// resp is one API answer.
type resp struct {
	status int
	reason string
	raw    []byte
	body   map[string]any
}

func (r resp) data() any { return r.body["data"] }

func (r resp) list() []any { l, _ := r.body["data"].([]any); return l }

func (r resp) obj() map[string]any { m, _ := r.body["data"].(map[string]any); return m }

func (r resp) str() string { s, _ := r.body["data"].(string); return s }

// call sends a request with params as query (GET, DELETE) or form body.
func (e *env) call(method, path string, kv ...string) resp {
	e.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	u := e.url + "/api2/json" + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
	} else {
		body = strings.NewReader(v.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "PVEAPIToken="+e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, reason: strings.TrimPrefix(res.Status, res.Status[:4]), raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return r
}

// ok calls and fails the test unless the answer is 200.
func (e *env) ok(method, path string, kv ...string) resp {
	e.t.Helper()
	r := e.call(method, path, kv...)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s %v: %d %s %s", method, path, kv, r.status, r.reason, r.raw)
	}
	return r
}

// task starts a task, finishes it and returns its status and log.
func (e *env) task(method, path string, kv ...string) (status map[string]any, log []string) {
	e.t.Helper()
	upid := e.ok(method, path, kv...).str()
	if !strings.HasPrefix(upid, "UPID:") {
		e.t.Fatalf("%s %s: want a UPID, got %q", method, path, upid)
	}
	e.sim.FinishTasks()
	return e.taskResult(upid)
}

func (e *env) taskResult(upid string) (map[string]any, []string) {
	e.t.Helper()
	node := strings.Split(upid, ":")[1]
	st := e.ok("GET", "/nodes/"+node+"/tasks/"+upid+"/status").obj()
	var lines []string
	for _, l := range e.ok("GET", "/nodes/"+node+"/tasks/"+upid+"/log", "limit", "0").list() {
		lines = append(lines, l.(map[string]any)["t"].(string))
	}
	return st, lines
}

// conf returns the container's config text.
func (e *env) conf(vmid int) string {
	e.t.Helper()
	c, ok := e.sim.ConfigText(vmid)
	if !ok {
		e.t.Fatalf("ct %d missing", vmid)
	}
	return c
}
