package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// TestREADMETokenRole: the README's pveum role holds exactly the
// privileges of the one privilege table, in its order, and what it says a
// plan-only token needs is the table's read privileges; the token gets the
// role as its user does (a separated token holds only what both hold).
func TestREADMETokenRole(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	m := regexp.MustCompile(`(?m)^pveum role add Felhom --privs "([^"]+)"$`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal(`README has no line: pveum role add Felhom --privs "..."`)
	}
	var want, planOnly []string
	for _, u := range plan.PrivilegeUses() {
		want = append(want, u.Name)
		if u.Plan {
			planOnly = append(planOnly, u.Name)
		}
	}
	if got := strings.Split(m[1], ","); !slices.Equal(got, want) {
		t.Errorf("README's role privileges\n  %v\nthe privilege table's\n  %v", got, want)
	}
	if len(planOnly) != 2 || !strings.Contains(readme, "needs `"+planOnly[0]+"` and\n`"+planOnly[1]+"`") {
		t.Errorf("README does not say a plan-only token needs %v", planOnly)
	}
	for _, line := range []string{
		`pveum user token add felhom@pve gitops --privsep 1`,
		`pveum acl modify "$path" --users felhom@pve --roles Felhom`,
		`pveum acl modify "$path" --tokens 'felhom@pve!gitops' --roles Felhom`,
	} {
		if !strings.Contains(readme, line) {
			t.Errorf("README lacks %q", line)
		}
	}
}
