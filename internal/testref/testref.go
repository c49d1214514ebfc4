// Package testref finds the shared PVE reference data (../shared/reference)
// for tests. The data is not copied into the repository; tests read it where
// the project's checkout sits beside shared/.
//
// Outside CI a test whose reference data is missing is skipped with the
// reason. When FELHOM_REQUIRE_REFERENCE is set (.ci/run sets it), a missing
// file fails the test instead, so CI can never pass by skipping.
package testref

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvDir names the variable that overrides where the reference folder is.
const EnvDir = "FELHOM_REFERENCE_DIR"

// EnvRequire names the variable that turns a missing reference into a failure.
const EnvRequire = "FELHOM_REQUIRE_REFERENCE"

// Dir returns the reference folder: $FELHOM_REFERENCE_DIR, or
// <repo>/../shared/reference. It does not check that it exists.
func Dir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/testref/testref.go
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(filepath.Dir(repo), "shared", "reference")
}

// Path returns the path of rel inside the reference folder, skipping the test
// when it does not exist (failing it when FELHOM_REQUIRE_REFERENCE is set).
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("reference data %s is required (%s is set) but missing: %v", p, EnvRequire, err)
		}
		t.Skipf("reference data %s not found (set %s to its folder): %v", p, EnvDir, err)
	}
	return p
}

// Read returns the content of rel inside the reference folder, skipping or
// failing as Path does.
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Glob returns the reference files matching pattern (relative to the
// reference folder), skipping or failing as Path does when none match.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(Dir(), pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("no reference files match %s in %s (%s is set)", pattern, Dir(), EnvRequire)
		}
		t.Skipf("no reference files match %s in %s", pattern, Dir())
	}
	return m
}
