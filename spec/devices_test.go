package spec

import (
	"strings"
	"testing"
)

func TestDevices(t *testing.T) {
	head := "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: gpu\nspec:\n  node: pve1\n  vmid: 110\n  devices:\n"
	docs, diags := Parse("gpu.yaml", []byte(head+"    dev0: {path: /dev/dri/renderD128, gid: 44, mode: \"0660\"}\n    dev1: {path: /dev/ttyUSB0, deny-write: true}\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := docs[0].Spec.Devices
	if d["dev0"].Path != "/dev/dri/renderD128" || *d["dev0"].GID != 44 || d["dev0"].Mode != "0660" || !*d["dev1"].DenyWrite {
		t.Errorf("%+v", d)
	}
	for _, tt := range []struct{ body, path, msg string }{
		{"    dev0: {path: /tmp/x}\n", "/spec/devices/dev0/path", "must be a device path below /dev/"},
		{"    dev0: {path: /dev/../etc/shadow}\n", "/spec/devices/dev0/path", `devices.dev0.path: "/dev/../etc/shadow" is not a device path below /dev/`},
		{"    dev0: {mode: \"0660\"}\n", "/spec/devices/dev0", "path"},
		{"    dev0: {path: /dev/null, mode: 660}\n", "/spec/devices/dev0/mode", ""},
		{"    dev256: {path: /dev/null}\n", "/spec/devices", "is not a valid slot here"},
	} {
		_, diags := Parse("gpu.yaml", []byte(head+tt.body))
		found := false
		for _, dg := range diags {
			found = found || (strings.HasPrefix(dg.Path, tt.path) && strings.Contains(dg.Message, tt.msg))
		}
		if !found {
			t.Errorf("%q: %v, want %s: %s", tt.body, diags, tt.path, tt.msg)
		}
	}
}

// Raw lxc.* keys have no pct set option: the spec refuses them by name.
func TestRawLXCKeysRefused(t *testing.T) {
	_, diags := Parse("ct.yaml", []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: ct\nspec:\n  node: pve1\n  vmid: 110\n  lxc.idmap: u 0 100000 65536\n"))
	if len(diags) != 1 || diags[0].Message != `unknown key "lxc.idmap": raw lxc.* keys are not supported` || !strings.Contains(diags[0].Hint, "pct set has no option") {
		t.Errorf("%v", diags)
	}
}
