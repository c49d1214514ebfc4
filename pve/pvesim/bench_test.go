package pvesim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// largeInventory has n running containers on one node.
func largeInventory(n int) *Inventory {
	inv := NewInventory("bench")
	node := inv.AddNode("pve1")
	node.AddStorage("local-lvm", "lvmthin", "rootdir", "images").Total = 1 << 50
	for i := 0; i < n; i++ {
		vmid := 1000 + i
		node.AddContainer(vmid, true, fmt.Sprintf("arch: amd64\ncores: 2\nhostname: ct%d\nmemory: 1024\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:%02X:%02X,ip=dhcp,type=veth\nostype: debian\nrootfs: local-lvm:vm-%d-disk-0,size=8G\nswap: 512\nunprivileged: 1\n", vmid, i/256%256, i%256, vmid))
	}
	inv.AddUser("admin@pve", Role("/", "Administrator")).AddToken("full", "secret-admin", false)
	return inv
}

func benchRequest(b *testing.B, s *Sim, method, path string, form url.Values) {
	b.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "/api2/json"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "PVEAPIToken=admin@pve!full=secret-admin")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
}

// BenchmarkGetConfig: one GET config in-process, with 1000 containers.
func BenchmarkGetConfig(b *testing.B) {
	s, err := New(largeInventory(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		benchRequest(b, s, "GET", fmt.Sprintf("/nodes/pve1/lxc/%d/config", 1000+i%1000), nil)
	}
}

// BenchmarkPutConfig: one hot PUT config in-process.
func BenchmarkPutConfig(b *testing.B) {
	s, err := New(largeInventory(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		benchRequest(b, s, "PUT", fmt.Sprintf("/nodes/pve1/lxc/%d/config", 1000+i%1000), url.Values{"memory": {fmt.Sprint(512 + i%1024)}})
	}
}

// BenchmarkClusterResources lists n containers.
func BenchmarkClusterResources(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, err := New(largeInventory(n))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				benchRequest(b, s, "GET", "/cluster/resources?type=vm", nil)
			}
		})
	}
}
