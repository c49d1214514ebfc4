package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ciScripts parses a CI workflow and returns its shell scripts: the run:
// of GitHub and Gitea steps, the script: and before_script: of GitLab jobs.
func ciScripts(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: not YAML: %v", file, err)
	}
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if key == "run" || key == "script" || key == "before_script" {
				out = append(out, v)
			}
		}
	}
	walk("", doc)
	return out
}

var felhomCall = regexp.MustCompile(`(?m)(?:^|[\s;&|(])felhom ([a-z][a-z-]*)([^\n]*)`)

// TestCIExamples checks each workflow in examples/ci: it parses as YAML,
// every felhom command and flag it names exists, and its plan script, run
// by bash against a stand-in felhom, passes on 0 and 2 (changes) and fails
// on 1 (error) and 3 (invalid specs), invalid specs from validate included.
func TestCIExamples(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "ci", "*", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "ci", "*.yml"))
	files = append(files, more...)
	if len(files) != 3 {
		t.Fatalf("want 3 workflows (github, gitea, gitlab), got %v", files)
	}
	root := newRootCommand()
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			var planScript string
			for _, s := range ciScripts(t, file) {
				for _, m := range felhomCall.FindAllStringSubmatch(s, -1) {
					cmd, _, err := root.Find([]string{m[1]})
					if err != nil || cmd == root {
						t.Errorf("names felhom %s, which felhom does not have", m[1])
						continue
					}
					for _, f := range strings.Fields(m[2]) {
						if name, ok := strings.CutPrefix(f, "--"); ok && cmd.Flags().Lookup(name) == nil {
							t.Errorf("felhom %s has no flag --%s", m[1], name)
						}
					}
				}
				if strings.Contains(s, "felhom plan --output markdown --detailed-exitcode") {
					planScript = s
				}
			}
			if planScript == "" {
				t.Fatal("no script runs felhom plan --output markdown --detailed-exitcode")
			}
			if !strings.Contains(string(mustRead(t, file)), "<!-- felhom-plan -->") {
				t.Error("the sticky comment does not look for the plan's marker")
			}
			for _, tc := range []struct {
				validate, plan string
				fail           bool
			}{
				{"0", "0", false}, {"0", "2", false}, {"0", "1", true}, {"3", "3", true}, {"3", "0", true}, {"0", "3", true}, {"3", "1", true},
			} {
				code := runCIScript(t, planScript, tc.validate, tc.plan)
				if (code != 0) != tc.fail {
					t.Errorf("validate exits %s, plan exits %s: script exits %d, want failure %v", tc.validate, tc.plan, code, tc.fail)
				}
			}
		})
	}
}

// runCIScript runs script with bash against stand-ins for felhom (validate
// and plan exit as told), curl and jq, and returns its exit code.
func runCIScript(t *testing.T, script, validate, plan string) int {
	t.Helper()
	bin := t.TempDir()
	stubs := map[string]string{
		"felhom": "#!/bin/sh\ncase $1 in\n validate) exit " + validate + " ;;\n plan) echo '<!-- felhom-plan -->'; echo plan; exit " + plan + " ;;\nesac\nexit 99\n",
		"curl":   "#!/bin/sh\necho '[]'\n",
		"jq":     "#!/bin/sh\necho '{}'\n",
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "SPECS=containers", "GITHUB_OUTPUT=" + filepath.Join(work, "out")}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return 0
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
