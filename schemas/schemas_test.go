package schemas

import (
	"encoding/json"
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
	for _, d := range []string{"container", "defaults", "containerSpec"} {
		if _, ok := doc.Defs[d]; !ok {
			t.Errorf("$defs/%s missing", d)
		}
	}
}
