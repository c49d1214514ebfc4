package spec

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// BenchmarkLoad measures Load on a repository of n containers, one file
// each, under a Defaults file.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10, 1000} {
		fsys := fstest.MapFS{"_defaults.yaml": {Data: []byte(`apiVersion: felhom/v1alpha1
kind: Defaults
spec:
  onboot: true
  net: {net0: {name: eth0, bridge: vmbr0}}
  backup: {schedule: "02:00", storage: nas, retention: {keep-daily: 7}}
`)}}
		for i := range n {
			fsys[fmt.Sprintf("ct/%05d.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`apiVersion: felhom/v1alpha1
kind: Container
metadata: {name: ct%d}
spec:
  node: pve%d
  vmid: %d
  memory: 2G
  cores: 2
  net: {net0: {ip: 10.0.%d.%d/16, gw: 10.0.0.1}}
  rootfs: {storage: local-lvm, size: 8G}
  mountpoints:
    mp0: {storage: tank, size: 32G, mp: /srv/data, backup: true}
`, i, i%3+1, 1000+i, i/250, i%250+1))}
		}
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			for b.Loop() {
				set, diags := Load(fsys, ".")
				if len(diags) > 0 || len(set.Containers) != n {
					b.Fatalf("%d containers, diagnostics:\n%s", len(set.Containers), diags.Error())
				}
			}
		})
	}
}
