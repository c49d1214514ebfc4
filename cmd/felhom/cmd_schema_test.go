package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/felhom/felhom/schemas"
)

func TestSchemaCommand(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"schema"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), schemas.Container) {
		t.Error("felhom schema does not print the embedded schema")
	}

	dest := filepath.Join(t.TempDir(), ".felhom", "container.schema.json")
	root = newRootCommand()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"schema", "--write", dest})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, schemas.Container) {
		t.Errorf("--write %s: %v, same schema %v", dest, err, bytes.Equal(got, schemas.Container))
	}
}
