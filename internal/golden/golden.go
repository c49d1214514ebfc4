// Package golden compares test output with golden files. It owns the
// -update flag: a test binary that imports it gets the flag once, and
// `go test ./pkg -update` rewrites the files instead of comparing. Packages
// that use it must not define their own -update flag.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Check compares got with the file at path and reports a difference as a
// test error. With -update it writes got to path (creating its directory)
// instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
