package diff

import (
	"fmt"
	"testing"

	"github.com/felhom/felhom/spec"
)

// BenchmarkBuild measures the pure planning cost (no API calls) for 10, 100
// and 1000 containers that each need most kinds of change.
func BenchmarkBuild(b *testing.B) {
	conf := baseConf + "mp0: tank:vm-101-disk-1,mp=/data,size=8G\n"
	base := ct(b, bigSpec+"restart: {mode: when-needed}\n")
	for _, n := range []int{10, 100, 1000} {
		specs := make([]spec.Container, n)
		live := make(map[int]*Live, n)
		for i := range specs {
			c := *base
			c.Metadata.Name = fmt.Sprintf("ct%d", i)
			c.Spec.VMID = 1000 + i
			specs[i] = c
			l := liveFrom(b, conf, i%2 == 0)
			l.VMID = c.Spec.VMID
			live[c.Spec.VMID] = l
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Build(specs, live, testOpts)
			}
		})
	}
}
