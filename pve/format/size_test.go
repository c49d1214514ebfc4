package format_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want format.Size
	}{
		{"0", 0},
		{"1024", 1024},
		{"8G", 8 << 30},
		{"512M", 512 << 20},
		{"1T", 1 << 40},
		{"1024G", 1 << 40},
		{"2K", 2048},
		{"1.5G", 3 << 29},
		{"0.5K", 512},
		{"0.1K", 102},                // int(102.4), as parse_size
		{"1.0000000001G", 1<<30 + 0}, // int(1073741824.1073741824)
		{"8GiB", 8 << 30},
		{"512MiB", 512 << 20},
		{"2KiB", 2048},
		{"1TiB", 1 << 40},
		{"8g", 8 << 30},
		{"8gib", 8 << 30},
		{"512m", 512 << 20},
		{"8192T", 8192 << 40},
	}
	for _, tt := range tests {
		got, err := format.ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeBad(t *testing.T) {
	for _, in := range []string{"", "G", "8X", "8 G", " 8G", "8G ", "-1G", "+1G", "1.G", ".5G", "1e3", "8GB", "8Gi", "0x10", "8G8", "1,5G", "9999999999T", "99999999999999999999"} {
		_, err := format.ParseSize(in)
		var fe *format.Error
		if !errors.As(err, &fe) {
			t.Errorf("ParseSize(%q): err = %v, want *format.Error", in, err)
			continue
		}
		if fe.Value != in || !strings.Contains(fe.Msg, "'"+in+"'") {
			t.Errorf("ParseSize(%q): error %q does not name the value", in, fe.Msg)
		}
	}
}

func TestParseDiskSize(t *testing.T) {
	for in, want := range map[string]format.Size{"8G": 8 << 30, "1536": 1536, "1.5T": 3 << 39, "4GiB": 4 << 30} {
		got, err := format.ParseDiskSize(in)
		if err != nil || got != want {
			t.Errorf("ParseDiskSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// PVE's parse_size is case-sensitive and knows only K, M, G, T (+iB).
	for _, in := range []string{"8g", "8gib", "8GIB", "8Gi", "", "8 G", "-1"} {
		_, err := format.ParseDiskSize(in)
		if err == nil || err.Error() != "value does not look like a valid disk size: "+in {
			t.Errorf("ParseDiskSize(%q): err = %v", in, err)
		}
	}
}

func TestParseNewVolumeSize(t *testing.T) {
	tests := []struct {
		in   string
		want format.Size
	}{
		{"8", 8 << 30},
		{"0", 0},
		{"0.5", 512 << 20},
		{"1.5", 1536 << 20},
		{"0.0009765625", 1 << 20},
		{"0.0001", 0},          // int(0.1024) MiB = 0
		{"0.001", 1 << 20},     // int(1.024) MiB
		{"2.0001", 2048 << 20}, // truncated to whole MiB as create_disks does
	}
	for _, tt := range tests {
		got, err := format.ParseNewVolumeSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseNewVolumeSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "8G", "8GiB", "-1", "1.", ".5", "1e3", "8 "} {
		if _, err := format.ParseNewVolumeSize(in); err == nil {
			t.Errorf("ParseNewVolumeSize(%q): no error", in)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   format.Size
		want string
	}{
		{8 << 30, "8G"},
		{1 << 40, "1T"},
		{1024 << 30, "1T"},
		{1536 << 20, "1536M"},
		{512 << 20, "512M"},
		{2048, "2K"},
		{1536, "1536"},
		{1023, "1023"},
		{1, "1"},
		{0, "0T"}, // format_size: 0 divides by every unit
		{3 << 40, "3T"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestSizeGiBString(t *testing.T) {
	tests := []struct {
		in   format.Size
		want string
	}{
		{8 << 30, "8"},
		{0, "0"},
		{3 << 29, "1.5"},
		{512 << 20, "0.5"},
		{1 << 20, "0.0009765625"},
		{1 << 40, "1024"},
	}
	for _, tt := range tests {
		got := tt.in.GiBString()
		if got != tt.want {
			t.Errorf("Size(%d).GiBString() = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := format.ParseNewVolumeSize(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseNewVolumeSize(%q) = %d, %v; want %d", got, back, err, tt.in)
		}
	}
}

// TestSizesCompareInBytes shows that equal sizes in different units are the
// same value.
func TestSizesCompareInBytes(t *testing.T) {
	groups := [][]string{
		{"1T", "1024G", "1048576M", "1073741824K", "1099511627776", "1TiB", "1024GiB", "1t"},
		{"1.5G", "1536M", "1572864K", "1610612736", "1.5GiB"},
		{"8G", "8192M", "8GiB", "0.0078125T"},
	}
	for _, g := range groups {
		first, err := format.ParseSize(g[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range g[1:] {
			got, err := format.ParseSize(s)
			if err != nil || got != first {
				t.Errorf("ParseSize(%q) = %d, %v; want %d (= %s)", s, got, err, first, g[0])
			}
		}
	}
}
