package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// FuzzMarkdown puts arbitrary text in every free-text field of a plan: the
// Markdown must keep its shape (one marker first, balanced sections, every
// table row with its 6 cells) and the text renderer must keep each change on
// one line.
func FuzzMarkdown(f *testing.F) {
	f.Add("web", "1 GiB", "2 GiB", "why", "pve1")
	f.Add("a|b", "line\nbreak", "<script>x</script>", "`code` *em* _u_ [l](x)", "n\\|")
	f.Add("", "</details>", "<!-- felhom-plan -->", "\r\n\x1b[31m", "| --- |")
	f.Fuzz(func(t *testing.T, name, before, after, reason, node string) {
		p := &plan.Plan{FormatVersion: plan.FormatVersion, SourceRevision: reason, Warnings: []string{before},
			Containers: []plan.ContainerPlan{{
				Name: name, Node: node, VMID: 100, Digest: after, Status: plan.StatusChanges,
				Changes: []plan.Change{{Path: "description", Op: plan.OpUpdate, Before: before, After: after, Class: plan.ClassHot, Reason: reason}},
				Steps:   []plan.Step{{Action: plan.ActionSetConfig, Params: map[string]string{"description": after}, Why: reason}},
				Blocked: []string{reason}, Warnings: []string{after},
			}}}
		var md bytes.Buffer
		if err := Markdown(&md, p); err != nil {
			t.Fatal(err)
		}
		s := md.String()
		if !strings.HasPrefix(s, MarkdownMarker+"\n") || strings.Count(s, MarkdownMarker) != 1 {
			t.Fatalf("marker not first and alone:\n%s", s)
		}
		if strings.Count(s, "<details>") != 1 || strings.Count(s, "</details>") != 1 {
			t.Fatalf("details not balanced:\n%s", s)
		}
		for _, line := range strings.Split(s, "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 7 {
				t.Fatalf("table row with %d separators: %q", n, line)
			}
		}
		var txt bytes.Buffer
		if err := Text(&txt, p, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(txt.String(), "\n") {
			if strings.HasPrefix(line, "    ~ description") && !strings.HasSuffix(line, "(hot)") {
				t.Fatalf("change line broken: %q", line)
			}
		}
		if bytes.ContainsAny(txt.Bytes(), "\x1b\r") {
			t.Fatal("control characters reach the terminal")
		}
	})
}
