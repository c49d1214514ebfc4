package main

import (
	"os"
	"path/filepath"
)

// etcConfig is where felhom looks for its config last.
const etcConfig = "/etc/felhom/felhom.yaml"

// findConfig picks the config file: --config, else $FELHOM_CONFIG, else
// felhom.yaml in the working folder dir, else etc when it exists. "" means
// none: the environment alone configures felhom.
func findConfig(flag string, getenv func(string) string, dir, etc string) string {
	if flag != "" {
		return flag
	}
	if p := getenv("FELHOM_CONFIG"); p != "" {
		return p
	}
	for _, p := range []string{filepath.Join(dir, "felhom.yaml"), etc} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}
