package diff

import (
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func TestHumanSize(t *testing.T) {
	tests := map[format.Size]string{
		0: "0 B", 512: "512 B", format.KiB: "1 KiB", 1536 * format.MiB: "1.5 GiB", 1000 * format.MiB: "1000 MiB",
		8 * format.GiB: "8 GiB", 1024 * format.GiB: "1 TiB", 1280 * format.MiB: "1.25 GiB",
		format.GiB + 10*format.MiB: "1034 MiB", 3*format.GiB + 512*format.MiB: "3.5 GiB", format.GiB + format.KiB: "1048577 KiB",
	}
	for in, want := range tests {
		if got := humanSize(in); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", in, got, want)
		}
	}
}
