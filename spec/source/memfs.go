package source

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// memFS is a read-only file system held in memory: a snapshot of a spec
// tree, taken once, so that a revision's files never change under the code
// that reads them, and its id names exactly them. Names are slash-separated
// and relative to the tree's root ("." is the root).
type memFS struct {
	nodes map[string]*memNode
	mtime time.Time
}

// memNode is one entry of a memFS.
type memNode struct {
	mode fs.FileMode
	data []byte
	// size is len(data), except for a file that was not read because it is
	// too big (spec.MaxFileSize) or not a regular file: then data is nil and
	// reading it fails, while its size and mode stay for spec.Load to
	// judge.
	size int64
	// dir says a link (mode ModeSymlink) leads to a folder: it stats as a
	// folder and is not followed.
	dir bool
	// kids are a folder's entries, sorted.
	kids []string
	// unread is why a file's data was not kept.
	unread error
}

func newMemFS(mtime time.Time) *memFS {
	return &memFS{nodes: map[string]*memNode{".": {mode: fs.ModeDir | 0o555}}, mtime: mtime}
}

// add puts n at name, creating the folders above it.
func (m *memFS) add(name string, n *memNode) {
	if name == "." {
		return
	}
	m.nodes[name] = n
	for {
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		parent, ok := m.nodes[dir]
		if !ok {
			parent = &memNode{mode: fs.ModeDir | 0o555}
			m.nodes[dir] = parent
		}
		if i, found := slices.BinarySearch(parent.kids, base); !found {
			parent.kids = slices.Insert(parent.kids, i, base)
		}
		if ok || dir == "." {
			return
		}
		name = dir
	}
}

// digest is a SHA-256 over every entry's name, kind and content, in name
// order: two snapshots with the same digest hold the same files.
func (m *memFS) digest() string {
	names := make([]string, 0, len(m.nodes))
	for name := range m.nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		n := m.nodes[name]
		io.WriteString(h, name)
		h.Write([]byte{0, byte(n.mode.Type() >> 24), boolByte(n.dir), boolByte(n.unread != nil)})
		var size [8]byte
		for i := range size {
			size[i] = byte(n.size >> (8 * i))
		}
		h.Write(size[:])
		h.Write(n.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// Open implements fs.FS.
func (m *memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	n, ok := m.nodes[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if n.mode.IsRegular() && n.unread != nil {
		return &memFile{name: name, node: n, fs: m, err: n.unread}, nil
	}
	return &memFile{name: name, node: n, fs: m}, nil
}

// ReadFile implements fs.ReadFileFS.
func (m *memFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	n, ok := m.nodes[name]
	switch {
	case !ok:
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	case n.mode.IsDir() || n.dir:
		return nil, &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	case n.unread != nil:
		return nil, &fs.PathError{Op: "read", Path: name, Err: n.unread}
	}
	return slices.Clone(n.data), nil
}

// ReadDir implements fs.ReadDirFS.
func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	n, ok := m.nodes[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return m.entries(name, n), nil
}

func (m *memFS) entries(name string, n *memNode) []fs.DirEntry {
	out := make([]fs.DirEntry, len(n.kids))
	for i, k := range n.kids {
		out[i] = fs.FileInfoToDirEntry(m.info(path.Join(name, k), m.nodes[path.Join(name, k)], false))
	}
	return out
}

// info is n's FileInfo; stat follows a link to a folder (it shows as one),
// lstat does not.
func (m *memFS) info(name string, n *memNode, stat bool) memInfo {
	mode := n.mode
	if stat && n.dir {
		mode = fs.ModeDir | 0o555
	}
	return memInfo{name: path.Base(name), size: n.size, mode: mode, mtime: m.mtime}
}

type errString string

func (e errString) Error() string { return string(e) }

const (
	errIsDir  = errString("is a folder")
	errNotDir = errString("not a folder")
)

// memFile is an open memFS entry.
type memFile struct {
	name string
	node *memNode
	fs   *memFS
	off  int
	dirs []fs.DirEntry // the rest to return from ReadDir; nil before the first call
	read bool
	err  error // every Read fails with it (a file whose data was not kept)
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.fs.info(f.name, f.node, true), nil }

func (f *memFile) Read(p []byte) (int, error) {
	if f.node.mode.IsDir() || f.node.dir {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errIsDir}
	}
	if f.err != nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: f.err}
	}
	if f.off >= len(f.node.data) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[f.off:])
	f.off += n
	return n, nil
}

func (f *memFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (f *memFile) ReadDir(count int) ([]fs.DirEntry, error) {
	if !f.node.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: errNotDir}
	}
	if !f.read {
		f.dirs, f.read = f.fs.entries(f.name, f.node), true
	}
	if count <= 0 {
		out := f.dirs
		f.dirs = nil
		return out, nil
	}
	if len(f.dirs) == 0 {
		return nil, io.EOF
	}
	n := min(count, len(f.dirs))
	out := f.dirs[:n]
	f.dirs = f.dirs[n:]
	return out, nil
}

// memInfo is a memFS entry's fs.FileInfo.
type memInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return i.mtime }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }
