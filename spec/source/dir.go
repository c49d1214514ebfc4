package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/felhom/felhom/spec"
)

// Dir is a directory source: a spec folder watched with fsnotify. Every
// folder below it is watched (new ones as they appear); a burst of events
// becomes one read after Quiet without events; events that cannot change
// what spec.Load reads (editor swap and backup files, hidden files, other
// files than *.yaml and *.yml) do not count. The folder's parent is watched
// too, so a Path that is a link swapped as a whole (ln -sfn) is seen, and
// so are links replaced inside it (a Kubernetes ConfigMap's ..data).
type Dir struct {
	cfg DirConfig
	log *slog.Logger
	*tracker

	// newTimer makes the quiet timer (tests inject one they fire).
	newTimer func(time.Duration) quietTimer
	// observe, when set, sees every event before it is judged (tests).
	observe func(fsnotify.Event)
	// reloaded, when set, sees every read Run makes and whether it
	// signalled Changed (tests count them).
	reloaded func(rev Revision, err error, changed bool)

	wake chan struct{} // Trigger

	mu         sync.Mutex
	watched    map[string]bool // folders with a watch
	lastDigest string          // memFS.digest of the last read
	lastID     string          // its id
}

// quietTimer is the timer that ends a burst.
type quietTimer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

// NewDir makes a directory source. It does not touch the folder: Fetch and
// Run report a missing one.
func NewDir(cfg DirConfig, log *slog.Logger) (*Dir, error) {
	if err := (Config{Dir: &cfg}).Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Quiet == 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.Resync == 0 {
		cfg.Resync = DefaultDirResync
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Path, err)
	}
	cfg.Path = abs
	return &Dir{
		cfg: cfg, log: log.With("source", cfg.Path), tracker: newTracker(),
		newTimer: func(d time.Duration) quietTimer {
			t := time.NewTimer(d)
			t.Stop()
			return realTimer{t}
		},
		watched: map[string]bool{}, wake: make(chan struct{}, 1),
	}, nil
}

// String is the folder.
func (d *Dir) String() string { return "dir " + d.cfg.Path }

// Changed implements Source.
func (d *Dir) Changed() <-chan struct{} { return d.changed }

// Trigger makes Run read the folder now (a webhook's trigger, a command).
// It never blocks.
func (d *Dir) Trigger() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Fetch reads the folder now.
func (d *Dir) Fetch(ctx context.Context) (Revision, error) {
	if err := ctx.Err(); err != nil {
		return Revision{}, err
	}
	rev, err := d.read()
	if err != nil {
		return Revision{}, err
	}
	d.handOut(rev.ID)
	return rev, nil
}

// read snapshots the folder and names the snapshot.
func (d *Dir) read() (Revision, error) {
	now := time.Now()
	root, err := filepath.EvalSymlinks(d.cfg.Path)
	if err != nil {
		return Revision{}, fmt.Errorf("source %s: %w", d.cfg.Path, err)
	}
	if info, err := os.Stat(root); err != nil {
		return Revision{}, fmt.Errorf("source %s: %w", d.cfg.Path, err)
	} else if !info.IsDir() {
		return Revision{}, fmt.Errorf("source %s: not a folder", d.cfg.Path)
	}
	m := newMemFS(now)
	if err := snapshot(m, root, "."); err != nil {
		return Revision{}, fmt.Errorf("source %s: %w", d.cfg.Path, err)
	}
	// Loading and validating a big tree for its id costs far more than
	// reading it (BenchmarkDirRead): files the same as last time keep the
	// id they had.
	digest := m.digest()
	d.mu.Lock()
	id, same := d.lastID, digest == d.lastDigest
	d.mu.Unlock()
	if !same {
		id = contentID(m)
		d.mu.Lock()
		d.lastDigest, d.lastID = digest, id
		d.mu.Unlock()
	}
	return Revision{ID: id, FS: m, Time: now}, nil
}

// contentID is spec.ContentRevision of the snapshot, or, for specs that do
// not load, "invalid-" and 12 hex digits of a hash of its files: a broken
// tree has an id of its own too, different for every different content, so
// the loop can report it and see the fix.
func contentID(m *memFS) string {
	if id, err := spec.ContentRevision(m, "."); err == nil {
		return id
	}
	return "invalid-" + m.digest()[:12]
}

// snapshot copies into m, at rel, what spec.Load reads below the folder
// dir: folders and *.yaml / *.yml files whose names do not start with "."
// (links to files followed; a link to a folder kept as a link, which Load
// refuses by name), a file too big or not regular kept by size and kind
// only, for Load to refuse.
func snapshot(m *memFS, dir, rel string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 && rel != "." {
		m.add(rel, &memNode{mode: fs.ModeDir | 0o555})
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		full, r := filepath.Join(dir, name), pathJoin(rel, name)
		info, err := os.Stat(full) // follows links
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since ReadDir, or a dangling link
			}
			return err
		}
		isLink := e.Type()&fs.ModeSymlink != 0
		switch {
		case info.IsDir() && isLink:
			m.add(r, &memNode{mode: fs.ModeSymlink | 0o777, dir: true})
		case info.IsDir():
			if err := snapshot(m, full, r); err != nil {
				return err
			}
		case !isSpecName(name):
		case !info.Mode().IsRegular():
			m.add(r, &memNode{mode: info.Mode(), unread: errors.New("not a regular file")})
		case info.Size() > spec.MaxFileSize:
			m.add(r, &memNode{mode: 0o444, size: info.Size(), unread: fmt.Errorf("larger than %d bytes", spec.MaxFileSize)})
		default:
			data, err := readCapped(full)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			m.add(r, &memNode{mode: 0o444, data: data, size: int64(len(data))})
		}
	}
	return nil
}

// readCapped reads a file of at most spec.MaxFileSize+1 bytes (one that grew
// past the limit since it was measured stays too big for Load).
func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, spec.MaxFileSize+1))
}

func pathJoin(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

func isSpecName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// editorFile tells the names editors and tools write beside a file they
// save: vim's .x.swp/.x.swx/4913 and x~, emacs's #x# and .#x, JetBrains'
// x___jb_tmp___ and x___jb_old___, kate's .x.kate-swp, gedit's
// .goutputstream-*, sed -i's sedXXXXXX and the usual .tmp, .bak, .orig,
// .rej, .part and .new (the temporary file of an atomic replace: its rename
// into place is the event that counts).
func editorFile(name string) bool {
	switch {
	case name == "4913",
		strings.HasSuffix(name, "~"),
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),
		strings.Contains(name, "___jb_"),
		len(name) == 9 && strings.HasPrefix(name, "sed"):
		return true
	}
	switch filepath.Ext(name) {
	case ".swp", ".swx", ".swo", ".tmp", ".bak", ".orig", ".rej", ".part", ".new", ".kate-swp", ".dpkg-new", ".dpkg-old":
		return true
	}
	return false
}

// relevant tells whether ev can change what the folder's revision holds.
func (d *Dir) relevant(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	if name == d.cfg.Path {
		return true // the folder itself, or the link naming it, was replaced
	}
	if filepath.Dir(name) == filepath.Dir(d.cfg.Path) && !d.isWatched(filepath.Dir(name)) {
		return false // a sibling of the folder, seen through the parent's watch
	}
	base := filepath.Base(name)
	switch {
	case editorFile(base):
		return false
	case strings.HasPrefix(base, ".."):
		return true // a Kubernetes-style ..data link or ..<time> folder
	case strings.HasPrefix(base, "."):
		return false
	case isSpecName(base):
		return true
	}
	// Any other name counts only as a folder: one made, or one that had a
	// watch (removed or renamed away).
	if d.isWatched(name) {
		return true
	}
	info, err := os.Stat(name)
	return err == nil && info.IsDir()
}

func (d *Dir) isWatched(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.watched[dir]
}

// Run watches the folder until ctx ends.
func (d *Dir) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("source %s: watch: %w", d.cfg.Path, err)
	}
	defer w.Close()
	parent := filepath.Dir(d.cfg.Path)
	if err := w.Add(parent); err != nil {
		return fmt.Errorf("source %s: watch %s: %w", d.cfg.Path, parent, err)
	}
	if err := d.rewatch(w); err != nil {
		// The parent's watch sees the folder appear (or its link come
		// back); until then there is nothing to read.
		d.log.Warn("source: the folder is not there yet; waiting for it", "err", err)
	}
	quiet := d.newTimer(d.cfg.Quiet)
	defer quiet.Stop()
	var resync <-chan time.Time
	if d.cfg.Resync > 0 {
		t := time.NewTicker(d.cfg.Resync)
		defer t.Stop()
		resync = t.C
	}
	// Anything changed between the caller's Fetch and the watches taking
	// hold is seen by this first read.
	d.reload(w)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if d.observe != nil {
				d.observe(ev)
			}
			if !d.relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// Watch a new folder at once, so that files made in it
				// during the burst are seen; the read after the burst
				// takes what was there before the watch.
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
					d.addTree(w, ev.Name)
				}
			}
			quiet.Reset(d.cfg.Quiet)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events: read again after the quiet period.
			d.log.Warn("source: watch error; reading the folder again", "err", err)
			quiet.Reset(d.cfg.Quiet)
		case <-quiet.C():
			d.reload(w)
		case <-resync:
			d.reload(w)
		case <-d.wake:
			d.reload(w)
		}
	}
}

// reload reads the folder, signals Changed for a new revision, and brings
// the watches in line with the folders there are now.
func (d *Dir) reload(w *fsnotify.Watcher) {
	if err := d.rewatch(w); err != nil {
		d.log.Warn("source: cannot watch the folder", "err", err)
	}
	rev, err := d.read()
	changed := false
	if err != nil {
		d.log.Warn("source: cannot read the folder", "err", err)
	} else if changed = d.saw(rev.ID); changed {
		d.log.Info("source: new revision", "revision", rev.ID)
	}
	if d.reloaded != nil {
		d.reloaded(rev, err, changed)
	}
}

// rewatch watches the folder (resolved, as a link may have been swapped) and
// every folder below it that spec.Load reads, and drops the watches of
// folders that are gone or no longer below it.
func (d *Dir) rewatch(w *fsnotify.Watcher) error {
	root, err := filepath.EvalSymlinks(d.cfg.Path)
	if err != nil {
		return fmt.Errorf("source %s: %w", d.cfg.Path, err)
	}
	want := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if e.IsDir() {
			if p != root && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			want[p] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("source %s: %w", d.cfg.Path, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for p := range d.watched {
		if !want[p] {
			// A folder still there (the old target of a swapped link, one
			// renamed hidden) loses its watch. One gone from its path keeps
			// it: removed, its watch went with it; renamed, the kernel's
			// watch follows the folder, and Add below finds it again under
			// the new name (removing it by the old name would remove it).
			if info, err := os.Lstat(p); err == nil && info.IsDir() {
				_ = w.Remove(p)
			}
			delete(d.watched, p)
		}
	}
	for p := range want {
		if d.watched[p] {
			continue
		}
		if err := w.Add(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("source %s: watch %s: %w", d.cfg.Path, p, err)
		}
		d.watched[p] = true
	}
	return nil
}

// addTree watches dir and the folders below it (a folder just made).
func (d *Dir) addTree(w *fsnotify.Watcher, dir string) {
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			return fs.SkipDir
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if !d.watched[p] && w.Add(p) == nil {
			d.watched[p] = true
		}
		return nil
	})
}
