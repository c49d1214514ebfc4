package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/golden"
	"github.com/felhom/felhom/spec"
)

func TestValidateExamplesPass(t *testing.T) {
	var out bytes.Buffer
	if err := runValidate(&out, validateOptions{output: "text"}, "../../examples"); err != nil {
		t.Fatalf("felhom validate examples/: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "valid: ") {
		t.Errorf("no summary line:\n%s", out.String())
	}
}

// TestValidateNewUser runs validate as a new user would, on a first spec
// with three mistakes: all three come back in one run, each with its file,
// line, column and a hint, and the exit code is 3.
func TestValidateNewUser(t *testing.T) {
	dir := "testdata/validate/newuser"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			err := runValidate(&out, validateOptions{output: format}, dir)
			var es *exitStatus
			if !errors.As(err, &es) || es.code != exitInvalid {
				t.Fatalf("err = %v, want exit %d", err, exitInvalid)
			}
			golden.Check(t, filepath.Join("testdata", "validate-newuser."+format+".golden"), out.Bytes())
			if format == "json" {
				var rep struct {
					Valid       bool              `json:"valid"`
					Diagnostics []spec.Diagnostic `json:"diagnostics"`
				}
				if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
					t.Fatal(err)
				}
				if rep.Valid || len(rep.Diagnostics) != 3 {
					t.Errorf("valid=%v with %d diagnostics, want 3 errors", rep.Valid, len(rep.Diagnostics))
				}
			}
		})
	}
}

func TestValidateArguments(t *testing.T) {
	var out bytes.Buffer
	if err := runValidate(&out, validateOptions{output: "yaml"}, "."); err == nil {
		t.Error("--output yaml accepted")
	}
	err := runValidate(&out, validateOptions{output: "text"}, "does-not-exist")
	if code := exitCode(t.Context(), err, io.Discard); code != exitError {
		t.Errorf("a missing path: exit %d (%v), want %d", code, err, exitError)
	}
}

// TestValidateFile: validate FILE checks that file with its folder's
// Defaults, and exits like validate DIR: 0 when valid, 3 when not.
func TestValidateFile(t *testing.T) {
	for _, tt := range []struct {
		file string
		code int
		want string // the whole text output, or a golden file
	}{
		// dns.yaml's snapshot.when-impossible: vzdump writes to the backup
		// storage it inherits; without its folder's Defaults it would be
		// invalid ("needs backup.storage").
		{"../../examples/containers/dns.yaml", exitOK, "valid: 1 container\n"},
		{"testdata/validate/newuser/containers/nextcloud.yaml", exitInvalid, "golden:" + filepath.Join("testdata", "validate-newuser.text.golden")},
		{"cmd_validate.go", exitInvalid, ""},
		{"testdata/validate-newuser.json.golden", exitInvalid, "testdata/validate-newuser.json.golden: error: not a felhom spec"},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			root := newRootCommand()
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs([]string{"validate", tt.file})
			if code := exitCode(t.Context(), root.Execute(), &errOut); code != tt.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tt.code, out.String(), errOut.String())
			}
			switch {
			case strings.HasPrefix(tt.want, "golden:"):
				// One file in its folder: the same report as validating the folder.
				golden.Check(t, strings.TrimPrefix(tt.want, "golden:"), out.Bytes())
			case tt.code == exitOK && out.String() != tt.want:
				t.Errorf("output %q, want %q", out.String(), tt.want)
			case !strings.Contains(out.String(), tt.want):
				t.Errorf("output does not contain %q:\n%s", tt.want, out.String())
			}
		})
	}
}

// TestValidateCommandExitCode goes through cobra and the exit-code table.
func TestValidateCommandExitCode(t *testing.T) {
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"validate", "testdata/validate/newuser"})
	err := root.Execute()
	if code := exitCode(t.Context(), err, &errOut); code != exitInvalid {
		t.Errorf("exit code %d, want %d", code, exitInvalid)
	}
	root = newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"validate", "../../examples"})
	if code := exitCode(t.Context(), root.Execute(), &errOut); code != exitOK {
		t.Errorf("examples: exit code %d, want 0", code)
	}
}
