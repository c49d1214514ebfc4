package pvesim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/ctconf"
)

// FuzzPutConfig sends arbitrary PUT config requests to a running and a
// stopped container. Whatever the request, the answer is one PVE gives
// (200, 400, 403 or 500 with a JSON body) and the stored config still
// parses, so the simulator never serves a config PVE could not read.
func FuzzPutConfig(f *testing.F) {
	for _, seed := range [][3]string{
		{"memory", "2048", ""},
		{"mp1", "local-lvm:1,mp=/data", ""},
		{"mp0", "local-lvm:vm-100-disk-1,mp=/srv2,size=4G", "swap"},
		{"net1", "name=eth1,bridge=vmbr0,ip=dhcp", "net0"},
		{"features", "nesting=1", "mp0"},
		{"description", "a\nb: c", ""},
		{"rootfs", "tank:4", ""},
		{"unused3", "local-lvm:vm-100-disk-9", "unused3"},
		{"tags", "a;b c", "hostname"},
	} {
		f.Add(seed[0], seed[1], seed[2], true)
		f.Add(seed[0], seed[1], seed[2], false)
	}
	f.Fuzz(func(t *testing.T, key, value, del string, running bool) {
		s, err := New(baseInventory(), WithClock(ManualClock(testStart)))
		if err != nil {
			t.Fatal(err)
		}
		vmid := map[bool]string{true: "100", false: "102"}[running]
		form := url.Values{}
		if key != "" {
			form.Set(key, value)
		}
		if del != "" {
			form.Set("delete", del)
		}
		req := httptest.NewRequest("PUT", "/api2/json/nodes/pve1/lxc/"+vmid+"/config", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "PVEAPIToken=admin@pve!full=secret-admin")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusInternalServerError:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		id := 102
		if running {
			id = 100
		}
		text, _ := s.ConfigText(id)
		if _, err := ctconf.Parse([]byte(text)); err != nil {
			t.Fatalf("stored config does not parse after %v (%d %s): %v\n%s", form, rec.Code, rec.Body, err, text)
		}
	})
}
