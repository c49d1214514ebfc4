package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// specTree writes n container specs in folders of 100 under dir.
func specTree(b *testing.B, dir string, n int) {
	b.Helper()
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("team%02d", i/100), fmt.Sprintf("ct%04d.yaml", i))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(ctYAML(fmt.Sprintf("ct%04d", i), 1000+i, 512)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirRead is one read of a 1,000-container folder: the snapshot and
// its id, for changed files (spec.ContentRevision loads and validates the
// whole tree) and for files as they were (the id is kept).
func BenchmarkDirRead(b *testing.B) {
	dir := b.TempDir()
	specTree(b, dir, 1000)
	src, err := NewDir(DirConfig{Path: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, changed := range []bool{true, false} {
		b.Run(map[bool]string{true: "changed", false: "unchanged"}[changed], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if changed {
					src.lastDigest = ""
				}
				if _, err := src.Fetch(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGitSnapshot is the copy of a 1,000-container commit's tree into
// memory (what a Fetch does after the network part).
func BenchmarkGitSnapshot(b *testing.B) {
	dir := b.TempDir()
	specTree(b, dir, 1000)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := wt.AddGlob("."); err != nil {
		b.Fatal(err)
	}
	h, err := wt.Commit("specs", &git.CommitOptions{Author: &object.Signature{Name: "b", Email: "b@example.net", When: time.Unix(0, 0)}})
	if err != nil {
		b.Fatal(err)
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		b.Fatal(err)
	}
	g := &Git{repo: repo}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.snapshot(c); err != nil {
			b.Fatal(err)
		}
	}
}
