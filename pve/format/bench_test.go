package format_test

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func BenchmarkParseNet(b *testing.B) {
	const v = "name=eth0,bridge=vmbr0,gw=192.168.100.1,hwaddr=BC:24:11:1B:6D:D4,ip=192.168.100.44/24,type=veth"
	for b.Loop() {
		if _, err := format.ParseNet(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMountPointAndPrint(b *testing.B) {
	const v = "local-lvm:vm-100-disk-1,mp=/srv,backup=1,mountoptions=noatime;nodev,size=32G"
	for b.Loop() {
		m, err := format.ParseMountPoint(v)
		if err != nil {
			b.Fatal(err)
		}
		if m.String() != v {
			b.Fatal(m.String())
		}
	}
}

func BenchmarkParseSize(b *testing.B) {
	for b.Loop() {
		if _, err := format.ParseSize("1.5G"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSizeWhole parses a size as specs mostly write them.
func BenchmarkParseSizeWhole(b *testing.B) {
	for b.Loop() {
		if _, err := format.ParseSize("8G"); err != nil {
			b.Fatal(err)
		}
	}
}
