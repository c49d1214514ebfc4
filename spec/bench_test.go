package spec

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// benchRepo is a repository of n containers, one file each, under a
// Defaults file.
func benchRepo(n int) fstest.MapFS {
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
	return fsys
}

// BenchmarkLoad measures Load on a repository of n containers, one file
// each, under a Defaults file.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10, 1000} {
		fsys := benchRepo(n)
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set, diags := Load(fsys, ".")
				if len(diags) > 0 || len(set.Containers) != n {
					b.Fatalf("%d containers, diagnostics:\n%s", len(set.Containers), diags.Error())
				}
			}
		})
	}
}

// BenchmarkLoadPeakHeap reports the peak live heap of one Load above the
// heap before it (peak-MB) and what the Set keeps (kept-MB): the GC runs
// at every 5% of growth and a sampler reads the live heap it marked, so
// peak-MB is what Load holds at its fullest, whatever GOGC is.
func BenchmarkLoadPeakHeap(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		fsys := benchRepo(n)
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(5))
			var peak, kept uint64
			for b.Loop() {
				runtime.GC()
				base := liveHeap()
				stop, done := make(chan struct{}), make(chan uint64)
				go func() {
					var p uint64
					for {
						p = max(p, liveHeap())
						select {
						case <-stop:
							done <- p
							return
						case <-time.After(100 * time.Microsecond):
						}
					}
				}()
				set, diags := Load(fsys, ".")
				runtime.GC()
				close(stop)
				p := max(<-done, liveHeap())
				if len(diags) > 0 || len(set.Containers) != n {
					b.Fatalf("%d containers, diagnostics:\n%s", len(set.Containers), diags.Error())
				}
				peak, kept = max(peak, p-base), liveHeap()-base
				runtime.KeepAlive(set)
			}
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
			b.ReportMetric(float64(kept)/1e6, "kept-MB")
		})
	}
}

// liveHeap is the heap the last GC found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkParseManyDocuments measures Parse on files at the document
// limit: a file of nothing but "---" lines up to MaxFileSize (refused after
// MaxDocuments+1 documents), and MaxDocuments small valid containers.
func BenchmarkParseManyDocuments(b *testing.B) {
	var valid strings.Builder
	for i := range MaxDocuments {
		fmt.Fprintf(&valid, "---\napiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: ct%d}\nspec: {node: pve1, vmid: %d, memory: 512}\n", i, 1000+i)
	}
	for _, in := range []struct{ name, data string }{
		{"markers", strings.Repeat("---\n", MaxFileSize/4)},
		{"containers", valid.String()},
	} {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				Parse("x.yaml", []byte(in.data))
			}
		})
	}
}
