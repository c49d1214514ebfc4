package source

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ctYAML is a valid container spec.
func ctYAML(name string, vmid, memory int) string {
	return fmt.Sprintf("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: %s\nspec:\n  node: pve1\n  vmid: %d\n  memory: %d\n", name, vmid, memory)
}

// waitFor bounds how long a test waits for an event the kernel delivers. It
// is a failure bound only: no test asserts how long anything took.
const waitFor = 20 * time.Second

type reload struct {
	rev     Revision
	err     error
	changed bool
}

// fakeTimer is a quiet timer the test fires.
type fakeTimer struct {
	c      chan time.Time
	resets *atomic.Int64
}

func (f fakeTimer) C() <-chan time.Time { return f.c }
func (f fakeTimer) Reset(time.Duration) { f.resets.Add(1) }
func (f fakeTimer) Stop()               {}

// dirRig runs a Dir source on a real folder with a quiet timer the test
// fires, and sees every event and every reload.
type dirRig struct {
	t       *testing.T
	parent  string // the folder holding the source's Path
	src     *Dir
	fire    chan time.Time
	resets  atomic.Int64
	events  chan fsnotify.Event
	reloads chan reload
	seq     int
}

// startDir starts a source on path (below parent) after setup made the
// folder, Fetches once, and waits for Run's first read.
func startDir(t *testing.T, parent, path string) (*dirRig, Revision) {
	t.Helper()
	r := &dirRig{t: t, parent: parent, fire: make(chan time.Time), events: make(chan fsnotify.Event, 10000), reloads: make(chan reload, 100)}
	src, err := NewDir(DirConfig{Path: path, Resync: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src.newTimer = func(time.Duration) quietTimer { return fakeTimer{c: r.fire, resets: &r.resets} }
	src.observe = func(ev fsnotify.Event) { r.events <- ev }
	src.reloaded = func(rev Revision, err error, changed bool) { r.reloads <- reload{rev, err, changed} }
	r.src = src
	rev, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	first := r.nextReload()
	if first.err != nil || first.changed || first.rev.ID != rev.ID {
		t.Fatalf("first read = %+v, want %s unchanged", first, rev.ID)
	}
	return r, rev
}

func (r *dirRig) nextReload() reload {
	r.t.Helper()
	select {
	case got := <-r.reloads:
		return got
	case <-time.After(waitFor):
		r.t.Fatal("no reload")
	}
	return reload{}
}

// settle waits until the source has seen every event caused so far: it
// makes an ignored file in the parent folder and waits for its event (one
// inotify queue delivers events in order).
func (r *dirRig) settle() {
	r.t.Helper()
	r.seq++
	name := filepath.Join(r.parent, fmt.Sprintf(".settle-%d~", r.seq))
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.After(waitFor)
	for {
		select {
		case ev := <-r.events:
			if ev.Name == name {
				return
			}
		case <-deadline:
			r.t.Fatalf("no event for %s", name)
		}
	}
}

// quiet settles, checks that no read happened during the burst and that
// the burst counted (wantEvents), then fires the quiet timer and returns the
// one read it causes.
func (r *dirRig) quiet(wantEvents bool) reload {
	r.t.Helper()
	r.settle()
	select {
	case got := <-r.reloads:
		r.t.Fatalf("read before the quiet period ended: %+v", got)
	default:
	}
	if n := r.resets.Swap(0); (n > 0) != wantEvents {
		r.t.Fatalf("%d events counted, want some: %v", n, wantEvents)
	}
	if !wantEvents {
		return reload{}
	}
	r.fire <- time.Now()
	got := r.nextReload()
	if got.err != nil {
		r.t.Fatal(got.err)
	}
	return got
}

// changedOnce checks Changed holds exactly what the reloads signalled.
func (r *dirRig) changedOnce(want bool) {
	r.t.Helper()
	select {
	case <-r.src.Changed():
		if !want {
			r.t.Fatal("Changed fired")
		}
	default:
		if want {
			r.t.Fatal("Changed did not fire")
		}
	}
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// files lists a revision's files and their content.
func files(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantFiles(t *testing.T, rev Revision, want map[string]string) {
	t.Helper()
	got := files(t, rev.FS)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("revision %s holds %v, want %v", rev.ID, got, want)
	}
}

func TestDirEditsAreSeen(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, rev0 := startDir(t, parent, dir)
	if !strings.HasPrefix(rev0.ID, "specs-") {
		t.Fatalf("id %q, want a spec.ContentRevision", rev0.ID)
	}

	// create
	write(t, filepath.Join(dir, "b.yaml"), ctYAML("b", 101, 512))
	got := r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "b.yaml": ctYAML("b", 101, 512)})
	if !got.changed || got.rev.ID == rev0.ID {
		t.Fatalf("create: %+v", got)
	}
	r.changedOnce(true)
	rev1 := got.rev

	// edit
	write(t, filepath.Join(dir, "b.yaml"), ctYAML("b", 101, 1024))
	got = r.quiet(true)
	if !got.changed || got.rev.ID == rev1.ID {
		t.Fatalf("edit: %+v", got)
	}
	r.changedOnce(true)
	// A revision handed out earlier still holds its own files.
	wantFiles(t, rev1, map[string]string{"a.yaml": ctYAML("a", 100, 512), "b.yaml": ctYAML("b", 101, 512)})

	// rename: the same specs under another name are the same revision,
	// read again but not signalled.
	rev2 := got.rev
	if err := os.Rename(filepath.Join(dir, "b.yaml"), filepath.Join(dir, "c.yaml")); err != nil {
		t.Fatal(err)
	}
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "c.yaml": ctYAML("b", 101, 1024)})
	if got.changed || got.rev.ID != rev2.ID {
		t.Fatalf("rename: %+v, want %s unchanged", got, rev2.ID)
	}
	r.changedOnce(false)

	// delete
	if err := os.Remove(filepath.Join(dir, "c.yaml")); err != nil {
		t.Fatal(err)
	}
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512)})
	if !got.changed || got.rev.ID != rev0.ID {
		t.Fatalf("delete: %+v, want back at %s", got, rev0.ID)
	}
	r.changedOnce(true)

	// Fetch after a signalled change returns it, and the next unchanged
	// read is not signalled again.
	f, err := r.src.Fetch(context.Background())
	if err != nil || f.ID != rev0.ID {
		t.Fatalf("Fetch = %v, %v", f.ID, err)
	}
}

func TestDirNewSubfoldersAreWatched(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, _ := startDir(t, parent, dir)

	// A folder made and filled in one burst (as a checkout does).
	write(t, filepath.Join(dir, "team", "db", "c.yaml"), ctYAML("c", 102, 512))
	got := r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "team/db/c.yaml": ctYAML("c", 102, 512)})
	r.changedOnce(true)

	// An edit deep in it later is seen: the new folders are watched.
	write(t, filepath.Join(dir, "team", "db", "c.yaml"), ctYAML("c", 102, 2048))
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "team/db/c.yaml": ctYAML("c", 102, 2048)})
	r.changedOnce(true)

	// A folder renamed, then removed.
	if err := os.Rename(filepath.Join(dir, "team"), filepath.Join(dir, "crew")); err != nil {
		t.Fatal(err)
	}
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "crew/db/c.yaml": ctYAML("c", 102, 2048)})
	write(t, filepath.Join(dir, "crew", "db", "c.yaml"), ctYAML("c", 102, 4096))
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "crew/db/c.yaml": ctYAML("c", 102, 4096)})
	r.changedOnce(true)
	if err := os.RemoveAll(filepath.Join(dir, "crew")); err != nil {
		t.Fatal(err)
	}
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 512)})
	r.changedOnce(true)
}

func TestDirBurstIsOneReload(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, _ := startDir(t, parent, dir)
	for i := range 100 {
		write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 1000+i))
	}
	got := r.quiet(true) // fails if any read happened during the burst
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 1099)})
	r.changedOnce(true)
	select {
	case extra := <-r.reloads:
		t.Fatalf("a second read: %+v", extra)
	default:
	}
}

func TestDirEditorFilesAreIgnored(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, _ := startDir(t, parent, dir)
	for _, name := range []string{".a.yaml.swp", ".a.yaml.swx", "a.yaml~", "4913", "#a.yaml#", ".#a.yaml",
		"a.yaml___jb_tmp___", ".goutputstream-XYZ123", "sedAb12Cd", "a.yaml.tmp", "a.yaml.bak", "notes.md", ".hidden.yaml"} {
		write(t, filepath.Join(dir, name), "junk: [")
	}
	r.quiet(false) // no event counted, so nothing read
	if err := os.Remove(filepath.Join(dir, "a.yaml~")); err != nil {
		t.Fatal(err)
	}
	r.quiet(false)
	r.changedOnce(false)
}

func TestDirAtomicReplace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, rev0 := startDir(t, parent, dir)
	// Write a temporary file, then rename it over the spec (as editors,
	// configuration tools and rsync do).
	write(t, filepath.Join(dir, "a.yaml.tmp"), ctYAML("a", 100, 768))
	if err := os.Rename(filepath.Join(dir, "a.yaml.tmp"), filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	got := r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 768)})
	if !got.changed || got.rev.ID == rev0.ID {
		t.Fatalf("atomic replace: %+v", got)
	}
	r.changedOnce(true)
}

// TestDirLinkedFolderSwap swaps the configured path, a link, to another
// folder as a whole (ln -sfn with a rename, so it is atomic), then edits the
// new folder.
func TestDirLinkedFolderSwap(t *testing.T) {
	parent := t.TempDir()
	write(t, filepath.Join(parent, "v1", "a.yaml"), ctYAML("a", 100, 512))
	write(t, filepath.Join(parent, "v2", "a.yaml"), ctYAML("a", 100, 2048))
	link := filepath.Join(parent, "specs")
	if err := os.Symlink("v1", link); err != nil {
		t.Fatal(err)
	}
	r, rev0 := startDir(t, parent, link)
	swap(t, parent, "v2", "specs")
	got := r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 2048)})
	if !got.changed || got.rev.ID == rev0.ID {
		t.Fatalf("swap: %+v", got)
	}
	r.changedOnce(true)
	// The new folder is watched, the old one no longer counts.
	write(t, filepath.Join(parent, "v2", "b.yaml"), ctYAML("b", 101, 512))
	got = r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 2048), "b.yaml": ctYAML("b", 101, 512)})
	r.changedOnce(true)
	write(t, filepath.Join(parent, "v1", "a.yaml"), ctYAML("a", 100, 4096))
	r.quiet(false)
}

// swap points the link dir/name at target atomically: a new link, renamed
// over the old one.
func swap(t *testing.T, dir, target, name string) {
	t.Helper()
	tmp := filepath.Join(dir, name+"_tmp")
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestDirConfigMapSwap lays the folder out as Kubernetes mounts a
// ConfigMap: each file a link through ..data to a hidden timestamped folder,
// a new version published by swapping ..data.
func TestDirConfigMapSwap(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "..2026_01_01", "a.yaml"), ctYAML("a", 100, 512))
	if err := os.Symlink("..2026_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/a.yaml", filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	r, rev0 := startDir(t, parent, dir)
	wantFiles(t, rev0, map[string]string{"a.yaml": ctYAML("a", 100, 512)})

	write(t, filepath.Join(dir, "..2026_01_02", "a.yaml"), ctYAML("a", 100, 1024))
	swap(t, dir, "..2026_01_02", "..data")
	if err := os.RemoveAll(filepath.Join(dir, "..2026_01_01")); err != nil {
		t.Fatal(err)
	}
	got := r.quiet(true)
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 1024)})
	if !got.changed || got.rev.ID == rev0.ID {
		t.Fatalf("..data swap: %+v", got)
	}
	r.changedOnce(true)
}

// TestDirInvalidSpecsHaveIDs: a broken tree still has an id, a different one
// per content, so the loop can show each and see the fix.
func TestDirInvalidSpecsHaveIDs(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	r, rev0 := startDir(t, parent, dir)
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512)+"  bogus: 1\n")
	bad1 := r.quiet(true)
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512)+"  bogus: 2\n")
	bad2 := r.quiet(true)
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	fixed := r.quiet(true)
	for _, got := range []reload{bad1, bad2} {
		if !got.changed || !strings.HasPrefix(got.rev.ID, "invalid-") {
			t.Fatalf("broken tree: %+v", got)
		}
	}
	if bad1.rev.ID == bad2.rev.ID {
		t.Fatalf("two broken trees share id %s", bad1.rev.ID)
	}
	if !fixed.changed || fixed.rev.ID != rev0.ID {
		t.Fatalf("fixed: %+v, want %s", fixed, rev0.ID)
	}
}

// TestDirRealQuietTimer runs the source with its own timer: a change is
// signalled. Only the outcome is checked, never how long it took.
func TestDirRealQuietTimer(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	src, err := NewDir(DirConfig{Path: dir, Quiet: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rev0, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go src.Run(ctx)
	// Until Run has its watches, the write may come before them; its first
	// read sees it then.
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 640))
	select {
	case <-src.Changed():
	case <-time.After(waitFor):
		t.Fatal("no change signalled")
	}
	rev, err := src.Fetch(ctx)
	if err != nil || rev.ID == rev0.ID {
		t.Fatalf("Fetch = %v, %v", rev.ID, err)
	}
	wantFiles(t, rev, map[string]string{"a.yaml": ctYAML("a", 100, 640)})
}

func TestDirFetchErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	src, err := NewDir(DirConfig{Path: missing}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Fetch of a missing folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f.yaml")
	write(t, file, "x")
	src, _ = NewDir(DirConfig{Path: file}, nil)
	if _, err := src.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("Fetch of a file: %v", err)
	}
}

// TestSnapshotIsWhatLoadReads: the snapshot keeps what spec.Load judges (a
// linked folder, an oversized file) and passes the fs.FS conformance test.
func TestSnapshotIsWhatLoadReads(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), ctYAML("a", 100, 512))
	write(t, filepath.Join(dir, "sub", "b.yml"), ctYAML("b", 101, 512))
	write(t, filepath.Join(dir, "README.md"), "not read")
	write(t, filepath.Join(dir, ".git", "c.yaml"), ctYAML("c", 102, 512))
	write(t, filepath.Join(t.TempDir(), "x"), "")
	other := t.TempDir()
	write(t, filepath.Join(other, "d.yaml"), ctYAML("d", 103, 512))
	if err := os.Symlink(other, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	src, _ := NewDir(DirConfig{Path: dir}, nil)
	rev, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(rev.FS, "a.yaml", "sub/b.yml"); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, rev, map[string]string{"a.yaml": ctYAML("a", 100, 512), "sub/b.yml": ctYAML("b", 101, 512)})
	// spec.Load refuses the linked folder by name, so the tree is invalid.
	if !strings.HasPrefix(rev.ID, "invalid-") {
		t.Fatalf("id %s, want invalid- for a linked folder", rev.ID)
	}
	info, err := fs.Stat(rev.FS, "linked")
	if err != nil || !info.IsDir() {
		t.Fatalf("stat linked = %v, %v", info, err)
	}
}

// TestDirTrigger: Trigger reads the folder at once, without an event or the
// quiet timer: a change no event reported (a linked file's target outside
// the folder) is found.
func TestDirTrigger(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	outside := filepath.Join(t.TempDir(), "a.yaml")
	write(t, outside, ctYAML("a", 100, 512))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	r, rev0 := startDir(t, parent, dir)
	write(t, outside, ctYAML("a", 100, 1024))
	r.quiet(false) // no event in the watched folders
	r.src.Trigger()
	got := r.nextReload()
	if !got.changed || got.rev.ID == rev0.ID {
		t.Fatalf("trigger: %+v", got)
	}
	wantFiles(t, got.rev, map[string]string{"a.yaml": ctYAML("a", 100, 1024)})
	r.changedOnce(true)
}

// TestDirAppears: Run started before the folder exists waits for it.
func TestDirAppears(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "specs")
	src, err := NewDir(DirConfig{Path: dir, Quiet: 20 * time.Millisecond, Resync: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch of a missing folder passed")
	}
	reads := make(chan reload, 100)
	src.reloaded = func(rev Revision, err error, changed bool) { reads <- reload{rev, err, changed} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if got := <-reads; got.err == nil {
		t.Fatalf("first read of a missing folder: %+v", got)
	}
	// Made under another name and renamed into place, as a deploy does.
	write(t, filepath.Join(parent, "new", "a.yaml"), ctYAML("a", 100, 512))
	if err := os.Rename(filepath.Join(parent, "new"), dir); err != nil {
		t.Fatal(err)
	}
	select {
	case <-src.Changed():
	case <-time.After(waitFor):
		t.Fatal("the folder's arrival was not seen")
	}
	rev, err := src.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, rev, map[string]string{"a.yaml": ctYAML("a", 100, 512)})
}
