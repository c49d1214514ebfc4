package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/felhom/felhom/spec"
)

// TestGithubAnnotation: one workflow command per diagnostic, with file,
// line and col, and the escapes GitHub's runner requires (% \r \n in the
// message; also : and , in properties).
func TestGithubAnnotation(t *testing.T) {
	for _, tc := range []struct {
		d    spec.Diagnostic
		want string
	}{
		{spec.Diagnostic{File: "c/web.yaml", Line: 3, Column: 5, Message: "memory: not a size", Hint: "use 2G"},
			"::error file=c/web.yaml,line=3,col=5,title=felhom validate::memory: not a size (hint: use 2G)"},
		{spec.Diagnostic{File: "a,b:c.yaml", Message: "100% bad\r\nnext", Severity: spec.SeverityWarning},
			"::warning file=a%2Cb%3Ac.yaml,title=felhom validate::100%25 bad%0D%0Anext"},
	} {
		if got := githubAnnotation(tc.d); got != tc.want {
			t.Errorf("githubAnnotation(%+v)\n got %s\nwant %s", tc.d, got, tc.want)
		}
	}
}

// TestValidateOutputGithub: felhom validate --output github on the new
// user's specs writes an ::error line per problem and exits 3.
func TestValidateOutputGithub(t *testing.T) {
	var out bytes.Buffer
	err := runValidate(&out, validateOptions{output: "github"}, "testdata/validate/newuser")
	var es *exitStatus
	if !errors.As(err, &es) || es.code != exitInvalid {
		t.Fatalf("err = %v, want exit %d", err, exitInvalid)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "::error file=testdata/validate/newuser/") && strings.Contains(l, ",line=") && strings.Contains(l, ",col=") {
			n++
		}
	}
	if n != 3 || !strings.HasPrefix(lines[len(lines)-1], "invalid: 3 errors") {
		t.Errorf("want 3 ::error lines and the summary, got:\n%s", out.String())
	}
}
