package plan

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestFormatDocCoversEveryField keeps FORMAT.md and the types together:
// every JSON key, status, class, op and action must be documented there.
func TestFormatDocCoversEveryField(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	var words []string
	for _, v := range []any{Plan{}, ContainerPlan{}, RestartWindow{}, Change{}, Step{}, Privilege{}, Backups{}, BackupSchedule{}, Unmanaged{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			key, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if key == "-" {
				continue // not in the JSON
			}
			words = append(words, key)
		}
	}
	for _, s := range []Status{StatusUnchanged, StatusChanges, StatusMissing, StatusBlocked, StatusError} {
		words = append(words, string(s))
	}
	for _, c := range []Class{ClassHot, ClassPendingRestart, ClassRootOnly, ClassImpossible, ClassAwaitingRestart} {
		words = append(words, string(c))
	}
	for _, o := range []Op{OpAdd, OpUpdate, OpRemove} {
		words = append(words, string(o))
	}
	for _, a := range Actions() {
		words = append(words, a.Token())
	}
	for _, w := range words {
		if !strings.Contains(text, "`"+w+"`") {
			t.Errorf("FORMAT.md does not document `%s`", w)
		}
	}
}

// TestFormatDocExampleParses checks that the example in FORMAT.md is a valid
// plan of this format version.
func TestFormatDocExampleParses(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	if !ok {
		t.Fatal("FORMAT.md has no json example")
	}
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("unterminated example")
	}
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	if len(p.Containers) != 1 || len(p.Containers[0].Steps) != 2 {
		t.Errorf("example parsed to %+v", p)
	}
}
