package prune

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseOptions checks that ParseOptions never panics, that what it
// accepts prints to a string it parses back to the same options, and that
// Select marks every backup exactly once with those options.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		"keep-daily=7,keep-last=3", "keep-all=1", "keep-all=0,keep-weekly=2", "", ",,",
		"keep-last=0", "keep-all=1,keep-last=3", "keep-last=-1", "keep-last=", "3",
		"keep-hourly=24,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=5",
		"keep-last=+5", "keep-last=99999999999999999999", "keep-all=yes",
	} {
		f.Add(s)
	}
	backups := []Backup{
		FromVolume("s:backup/vzdump-lxc-100-2024_06_03-02_00_00.tar.zst", time.Time{}, 100, false, time.UTC),
		FromVolume("s:backup/vzdump-lxc-100-2024_06_02-02_00_00.tar.zst", time.Time{}, 100, true, time.UTC),
		FromVolume("s:backup/vzdump-lxc-100-2024_05_02-02_00_00.tar.zst", time.Time{}, 100, false, time.UTC),
		FromVolume("s:backup/vzdump-lxc-100-2023_05_02-02_00_00.tar.zst", time.Time{}, 100, false, time.UTC),
		FromVolume("s:backup/vzdump-lxc-100-renamed.tar", time.Time{}, 100, false, time.UTC),
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOptions(s)
		if err != nil {
			return
		}
		again, err := ParseOptions(o.String())
		if err != nil {
			t.Fatalf("ParseOptions(%q) = %q, which does not parse: %v", s, o.String(), err)
		}
		if !cmp.Equal(o, again) {
			t.Fatalf("ParseOptions(%q) = %v, round trip gives %v", s, o, again)
		}
		marks := Select(backups, o, time.UTC)
		if len(marks) != len(backups) {
			t.Fatalf("Select with %q marked %d of %d backups", s, len(marks), len(backups))
		}
	})
}
