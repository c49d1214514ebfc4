package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestContainerSchemaEmbedded(t *testing.T) {
	var doc struct {
		ID     string         `json:"$id"`
		Schema string         `json:"$schema"`
		Defs   map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(Container, &doc); err != nil {
		t.Fatalf("container.schema.json is not JSON: %v", err)
	}
	if doc.ID != ContainerSchemaID {
		t.Errorf("$id %q, want %q", doc.ID, ContainerSchemaID)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %q", doc.Schema)
	}
	for _, d := range []string{"container", "resolvedContainer", "defaults", "containerSpec"} {
		if _, ok := doc.Defs[d]; !ok {
			t.Errorf("$defs/%s missing", d)
		}
	}
	// Editors show a $def's title on hover; without one, every key would
	// be "felhom spec document".
	for name, d := range doc.Defs {
		if title, _ := d.(map[string]any)["title"].(string); title == "" {
			t.Errorf("$defs/%s has no title", name)
		}
	}
}

// TestPatternsStateTheirRule: every "pattern" has a "patternErrorMessage"
// (which editors show too), so that a value refused by a regular
// expression is told the rule in words.
func TestPatternsStateTheirRule(t *testing.T) {
	var doc any
	if err := json.Unmarshal(Container, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["pattern"].(string); ok {
				n++
				if msg, _ := v["patternErrorMessage"].(string); !strings.HasPrefix(msg, "must be ") {
					t.Errorf("%s: pattern without a patternErrorMessage starting \"must be \"", ptr)
				}
			}
			for k, c := range v {
				walk(c, ptr+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, fmt.Sprintf("%s/%d", ptr, i))
			}
		}
	}
	walk(doc, "")
	if n == 0 {
		t.Error("no patterns found")
	}
}
