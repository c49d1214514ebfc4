package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/felhom/felhom/spec"
)

// writeValidateGithub is felhom validate --output github: one GitHub
// Actions workflow command per diagnostic (::error or ::warning with file,
// line and col), so that each problem shows on the pull request's diff
// (Gitea and Forgejo Actions read the same commands), then the summary line
// of the text output.
func writeValidateGithub(out io.Writer, rep validateReport) error {
	var b strings.Builder
	for _, d := range rep.Diagnostics {
		b.WriteString(githubAnnotation(d) + "\n")
	}
	var sum strings.Builder
	if err := writeValidateText(&sum, validateReport{Valid: rep.Valid, Containers: rep.Containers, Errors: rep.Errors, Warnings: rep.Warnings}); err != nil {
		return err
	}
	b.WriteString(sum.String())
	_, err := io.WriteString(out, b.String())
	return err
}

// githubAnnotation renders d as a workflow command, escaped as GitHub's
// runner requires: % \r \n in the message, and : , too in properties.
func githubAnnotation(d spec.Diagnostic) string {
	cmd := "error"
	if d.Severity == spec.SeverityWarning {
		cmd = "warning"
	}
	props := "file=" + escapeGithubProperty(d.File)
	if d.Line > 0 {
		props += fmt.Sprintf(",line=%d", d.Line)
		if d.Column > 0 {
			props += fmt.Sprintf(",col=%d", d.Column)
		}
	}
	props += ",title=felhom validate"
	msg := d.Message
	if d.Hint != "" {
		msg += " (hint: " + d.Hint + ")"
	}
	return "::" + cmd + " " + props + "::" + escapeGithubData(msg)
}

func escapeGithubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeGithubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
