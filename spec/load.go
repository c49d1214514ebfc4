package spec

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Set is every container loaded from a spec tree, defaults applied.
type Set struct {
	// Containers is sorted by VMID.
	Containers []*Container
}

// ByVMID returns the container with vmid, or nil.
func (s *Set) ByVMID(vmid int) *Container {
	for _, c := range s.Containers {
		if c.Spec.VMID == vmid {
			return c
		}
	}
	return nil
}

// ByName returns the container named name, or nil.
func (s *Set) ByName(name string) *Container {
	for _, c := range s.Containers {
		if c.Metadata.Name == name {
			return c
		}
	}
	return nil
}

// Parse parses and validates one file's documents on their own: no folder
// defaults, no checks across files, no filled-in defaults. name is used in
// diagnostics only. Documents that could not be read at all are left out;
// the others are returned even when they have errors, so callers must check
// Diagnostics.HasErrors.
func Parse(name string, data []byte) ([]Document, Diagnostics) {
	raws, diags := parseFile(name, data)
	var docs []Document
	for _, r := range raws {
		if r.root == nil {
			continue
		}
		r.root, diags = pruneNulls(r.root, "", diags)
		d, ds := validateDoc(r)
		diags = append(diags, ds...)
		if d != nil {
			docs = append(docs, *d)
		}
	}
	return docs, diags.normalize()
}

// Load reads every *.yaml and *.yml file under root in fsys (folders and
// files whose name starts with "." are skipped, and so, with a warning, are
// files none of whose documents has a spec's top-level keys; a symbolic link
// to a folder is an error, as it is not followed, and so is a .yaml entry
// that is not a regular file, such as a device or a named pipe, which is
// not read; root itself may be a link), applies each folder's
// kind: Defaults to the containers in it and below (explicit values win),
// validates everything, and returns every diagnostic at once. The Set holds
// every container with a name and a vmid, even when there are errors, so
// callers must check Diagnostics.HasErrors before acting on it.
func Load(fsys fs.FS, root string) (*Set, Diagnostics) {
	return LoadEach(fsys, root, nil)
}

// LoadEach is Load that also hands each container, when each is not nil,
// to each as soon as the container itself is validated, before the rest of
// the tree is: a caller can start work that needs only the container's
// identity, such as reading its live state (reconcile.Prefetched.Want),
// while the other files load. The Set's diagnostics stay the verdict: a
// container handed on may be in a tree that turns out to have errors
// elsewhere (a vmid used twice, another file invalid), and a container may
// be handed on twice (when a file's Defaults kind, written with escapes,
// makes the load start over). each is called on Load's goroutine.
func LoadEach(fsys fs.FS, root string, each func(*Container)) (*Set, Diagnostics) {
	var diags Diagnostics
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			diags = append(diags, Diagnostic{File: p, Message: fmt.Sprintf("cannot read: %v", err)})
			if e != nil && e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		hidden := strings.HasPrefix(e.Name(), ".") && p != root && e.Name() != "." && e.Name() != ".."
		if e.IsDir() {
			if hidden {
				return fs.SkipDir
			}
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 && !hidden {
			// WalkDir does not follow a link to a folder. Following it could
			// loop (a link to a parent) and fs.FS cannot tell, so it is
			// refused by name rather than left out in silence.
			if info, err := fs.Stat(fsys, p); err == nil && info.IsDir() {
				diags = append(diags, Diagnostic{File: p, Message: "is a symbolic link to a folder; linked folders are not followed, so its specs are not read",
					Hint: "move or copy the folder here, link its files one by one, or name the linked folder itself"})
				return nil
			}
		}
		if hidden || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		if len(files) >= MaxFiles {
			return fmt.Errorf("more than %d spec files under %s", MaxFiles, root)
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		diags = append(diags, Diagnostic{File: root, Message: err.Error()})
	}
	return load(fsys, files, "", diags, each)
}

// LoadFile loads the one spec file name as Load(fsys, root) would see it:
// the Defaults of its folder and of every folder above it up to root apply,
// and its documents are checked as in Load. The other files of those
// folders (not of their subfolders) are read only for their kind: Defaults
// documents: their containers and their other problems are not reported,
// nor are vmids or names that clash with containers in other files. Named
// on its own, a file that is not a spec at all is an error, not a warning.
func LoadFile(fsys fs.FS, root, name string) (*Set, Diagnostics) {
	var diags Diagnostics
	files := []string{name}
	for dir := path.Dir(name); ; dir = path.Dir(dir) {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			diags = append(diags, Diagnostic{File: dir, Message: fmt.Sprintf("cannot read: %v", err)})
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") || p == name ||
				!(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				continue
			}
			if len(files) >= MaxFiles {
				break
			}
			files = append(files, p)
		}
		if dir == path.Clean(root) || dir == "." || dir == "/" {
			break
		}
	}
	return load(fsys, files, name, diags, nil)
}

// load reads files and validates their containers with the Defaults found
// among them. When only is set, containers, and problems other than those
// of Defaults documents, are taken from that file alone.
//
// It holds one file's parsed trees at a time: a first pass parses only the
// files whose text names a Defaults kind (and, with only set, the other
// files, for their Defaults), so that every container can be validated
// once its folder's Defaults are known; the second pass parses each
// remaining file, validates its containers and drops its trees. A file
// whose text does not name Defaults but whose kind decodes to it (written
// with escapes) is found in the second pass, and then every file is
// parsed in the first, as if all named it.
func load(fsys fs.FS, files []string, only string, diags Diagnostics, each func(*Container)) (*Set, Diagnostics) {
	// The schema compiles (once per process, tens of ms) while the first
	// pass reads the files: the first container can be validated sooner.
	go loadSchema()
	diags = slices.Clip(diags)
	if set, ds, ok := loadFiles(fsys, files, only, diags, mayHoldDefaults, each); ok {
		return set, ds
	}
	set, ds, _ := loadFiles(fsys, files, only, diags, func([]byte) bool { return true }, each)
	return set, ds
}

// mayHoldDefaults reports whether a file's text could hold a Defaults
// document: its kind's value can only be Defaults without the word in
// the text through escapes in a quoted scalar.
func mayHoldDefaults(data []byte) bool { return bytes.Contains(data, []byte(KindDefaults)) }

// specFile is one file between load's passes: its containers' trees when
// the first pass parsed it, else its text, parsed in the second.
type specFile struct {
	name       string
	data       []byte
	parsed     bool
	containers []rawDoc
}

// loadFiles is load with early telling which files the first pass parses.
// ok is false when a file the first pass left turned out to hold a
// Defaults document: the result is then incomplete. each, when not nil,
// gets every container of the Set as soon as it is validated without an
// error of its own.
func loadFiles(fsys fs.FS, files []string, only string, diags Diagnostics, early func([]byte) bool, each func(*Container)) (set *Set, _ Diagnostics, ok bool) {
	defaults := map[string]rawDoc{} // folder -> its Defaults document
	var pending []specFile
	for _, f := range files {
		other := only != "" && f != only // read for its Defaults only
		var ignored Diagnostics
		report := &diags
		if other {
			report = &ignored
		}
		data, ok := readLimited(fsys, f, report)
		if !ok {
			continue
		}
		if !other && !early(data) {
			pending = append(pending, specFile{name: f, data: data})
			continue
		}
		raws, ok := specDocs(f, data, only, report, &diags)
		if !ok {
			continue
		}
		sf := specFile{name: f, parsed: true}
		for _, r := range raws {
			if r.root == nil {
				continue
			}
			if kindOf(r.root) != KindDefaults {
				if !other {
					sf.containers = append(sf.containers, r)
				}
				continue
			}
			dir := path.Dir(f)
			if prev, dup := defaults[dir]; dup {
				diags = append(diags, Diagnostic{File: f, Line: r.pos.Line, Column: r.pos.Column,
					Message: fmt.Sprintf("folder %s already has a Defaults document (%s:%d)", dir, prev.file, prev.pos.Line),
					Hint:    "keep one Defaults per folder; put more specific defaults in a subfolder"})
				continue
			}
			var ds2 Diagnostics
			r.root, ds2 = pruneNulls(r.root, "", nil)
			diags = append(diags, ds2...)
			_, ds2 = validateDoc(r)
			diags = append(diags, ds2...)
			defaults[dir] = r
		}
		if !other {
			pending = append(pending, sf)
		}
	}

	set = &Set{}
	byVMID := map[int]Position{}
	byName := map[string]Position{}
	for i := range pending {
		sf := &pending[i]
		containers := sf.containers
		if !sf.parsed {
			raws, ok := specDocs(sf.name, sf.data, only, &diags, &diags)
			sf.data = nil
			if !ok {
				continue
			}
			for _, r := range raws {
				if r.root == nil {
					continue
				}
				if kindOf(r.root) == KindDefaults {
					return nil, nil, false
				}
				containers = append(containers, r)
			}
		}
		sf.containers = nil // the trees go with this file
		for _, r := range containers {
			r.root = withDefaults(r, defaults)
			var ds Diagnostics
			r.root, ds = pruneNulls(r.root, "", nil)
			diags = append(diags, ds...)
			d, ds := validateDoc(r)
			diags = append(diags, ds...)
			if d == nil || d.Kind != KindContainer {
				continue
			}
			applyDefaults(d)
			if d.Spec.VMID == 0 || d.Metadata.Name == "" {
				continue // no identity: nothing to manage, and already reported
			}
			if each != nil && !ds.HasErrors() {
				each(d)
			}
			if v := d.Spec.VMID; v != 0 {
				if first, dup := byVMID[v]; dup {
					diags = append(diags, dupDiag(r, "/spec/vmid", fmt.Sprintf("vmid %d is used twice", v), first,
						"every container needs its own vmid"))
				} else {
					byVMID[v] = valuePos(r.root, "/spec/vmid")
				}
			}
			if n := d.Metadata.Name; n != "" {
				if first, dup := byName[n]; dup {
					diags = append(diags, dupDiag(r, "/metadata/name", fmt.Sprintf("container name %q is used twice", n), first,
						"names are unique across the repository"))
				} else {
					byName[n] = valuePos(r.root, "/metadata/name")
				}
			}
			set.Containers = append(set.Containers, d)
		}
	}
	sort.SliceStable(set.Containers, func(i, j int) bool { return set.Containers[i].Spec.VMID < set.Containers[j].Spec.VMID })
	return set, diags.normalize(), true
}

// specDocs parses one file's documents and says whether they are a spec's:
// another tool's manifest, or YAML with no spec keys, is reported (to
// diags, unless the file is read for its Defaults only) and gives false.
// The parse's own problems go to report.
func specDocs(f string, data []byte, only string, report, diags *Diagnostics) ([]rawDoc, bool) {
	other := only != "" && f != only
	raws, ds := parseFile(f, data)
	*report = append(*report, ds...)
	if note, foreign := foreignManifest(raws); foreign {
		// A Kubernetes (or other apiVersion/kind) manifest in the
		// folder: not a spec with 5 errors, but another tool's file.
		sev := SeverityWarning
		if f == only {
			sev, note = SeverityError, strings.TrimSuffix(note, "; skipped")
		}
		if !other {
			*diags = append(*diags, Diagnostic{File: f, Severity: sev, Message: note,
				Hint: "felhom reads documents with apiVersion: " + APIVersion + "; keep other tools' manifests in another folder to silence this"})
		}
		return nil, false
	}
	if other && !looksLikeSpec(raws) {
		return nil, false
	}
	if !looksLikeSpec(raws) && f == only {
		*diags = append(*diags, Diagnostic{File: f, Message: "not a felhom spec (no document has apiVersion, kind, metadata or spec)",
			Hint: "specs start with apiVersion: " + APIVersion})
		return nil, false
	}
	if !looksLikeSpec(raws) {
		// Another tool's YAML (a simulator inventory, a CI workflow)
		// beside the specs: say so, but do not fail on it.
		*diags = append(*diags, Diagnostic{File: f, Severity: SeverityWarning,
			Message: "not a felhom spec (no document has apiVersion, kind, metadata or spec); skipped",
			Hint:    "specs start with apiVersion: " + APIVersion})
		return nil, false
	}
	return raws, true
}

func dupDiag(r rawDoc, ptr, msg string, first Position, hint string) Diagnostic {
	n, _ := r.root.lookup(ptr)
	pos := valuePos(r.root, ptr)
	return Diagnostic{File: pos.File, Line: pos.Line, Column: pos.Column, Path: ptr, Value: n.display(), Message: msg,
		Hint: fmt.Sprintf("%s; the first is at %s:%d:%d", hint, first.File, first.Line, first.Column)}
}

// valuePos is the position of the value at ptr (of its key when the value
// is missing).
func valuePos(root *node, ptr string) Position {
	n, kp := root.lookup(ptr)
	if n != nil {
		return n.pos
	}
	return kp
}

// readLimited reads a spec file: only a regular file (a link to one is
// followed), and at most MaxFileSize bytes of it. A device, named pipe or
// socket would be read without end or block forever, so it is refused
// before it is opened, and again on the open file in case it was replaced.
func readLimited(fsys fs.FS, name string, diags *Diagnostics) ([]byte, bool) {
	fail := func(msg, hint string) ([]byte, bool) {
		*diags = append(*diags, Diagnostic{File: name, Message: msg, Hint: hint})
		return nil, false
	}
	tooBig := func(size string) ([]byte, bool) {
		return fail(fmt.Sprintf("file is %s bytes; spec files may be at most %d", size, MaxFileSize), "split it into several files")
	}
	notRegular := func(m fs.FileMode) ([]byte, bool) {
		return fail(fmt.Sprintf("not a regular file (%s); spec files are read only from regular files", fileKind(m)),
			"replace it with a regular file, or give it a name that does not end in .yaml or .yml")
	}
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err), "")
	}
	if !info.Mode().IsRegular() {
		return notRegular(info.Mode())
	}
	if info.Size() > MaxFileSize {
		return tooBig(strconv.FormatInt(info.Size(), 10))
	}
	f, err := fsys.Open(name)
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err), "")
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && !info.Mode().IsRegular() {
		return notRegular(info.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fail(fmt.Sprintf("cannot read: %v", err), "")
	}
	if len(data) > MaxFileSize {
		return tooBig("more than " + strconv.Itoa(MaxFileSize))
	}
	return data, true
}

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

var topKeys = []string{"apiVersion", "kind", "metadata", "spec"}

// looksLikeSpec reports whether any document of a file has a top-level key
// of a spec (apiVersion, kind, metadata, spec, or a near miss of one), or
// whether the file failed to parse (then its errors matter).
func looksLikeSpec(raws []rawDoc) bool {
	if len(raws) == 0 {
		return true
	}
	for _, r := range raws {
		if r.root == nil || r.root.kind != mapNode {
			continue
		}
		for _, k := range r.root.keys {
			if slices.Contains(topKeys, k) || suggest(k, topKeys) != "" {
				return true
			}
		}
	}
	return false
}

func kindOf(root *node) string {
	k, _ := root.get("kind")
	return k.str()
}

// withDefaults merges the Defaults of the container's folder and every
// folder above it into its tree: nearer folders win over farther ones, the
// container's own values win over all. Only metadata.labels and spec are
// inherited; vmid and hostname never are.
func withDefaults(r rawDoc, defaults map[string]rawDoc) *node {
	var chain []*node
	for dir := path.Dir(r.file); ; dir = path.Dir(dir) {
		if d, ok := defaults[dir]; ok {
			chain = append(chain, inheritable(d.root))
		}
		if dir == "." || dir == "/" || dir == "" {
			break
		}
	}
	var base *node
	for i := len(chain) - 1; i >= 0; i-- {
		base = mergeNodes(base, chain[i], "")
	}
	if base == nil {
		return r.root
	}
	return mergeNodes(base, r.root, "")
}

// atomic lists the mappings that are replaced whole instead of merged key by
// key: the keep- options of a retention only make sense together.
var atomic = map[string]bool{"/spec/backup/retention": true}

// inheritable is the part of a Defaults document a container inherits.
func inheritable(d *node) *node {
	out := &node{kind: mapNode, pos: d.pos}
	if md, i := d.get("metadata"); i >= 0 {
		if labels, j := md.get("labels"); j >= 0 {
			out.keys = append(out.keys, "metadata")
			out.keyPos = append(out.keyPos, d.keyPos[i])
			out.vals = append(out.vals, &node{kind: mapNode, pos: md.pos, keys: []string{"labels"}, keyPos: []Position{md.keyPos[j]}, vals: []*node{labels}})
		}
	}
	if sp, i := d.get("spec"); i >= 0 && sp.kind == mapNode {
		s := &node{kind: mapNode, pos: sp.pos}
		for j, k := range sp.keys {
			if k == "vmid" || k == "hostname" {
				continue
			}
			s.keys = append(s.keys, k)
			s.keyPos = append(s.keyPos, sp.keyPos[j])
			s.vals = append(s.vals, sp.vals[j])
		}
		out.keys = append(out.keys, "spec")
		out.keyPos = append(out.keyPos, d.keyPos[i])
		out.vals = append(out.vals, s)
	}
	return out
}

// mergeNodes lays over on top of base: mappings merge key by key (except
// the atomic ones), anything else in over replaces base. A null in over
// removes the inherited value. ptr is where the two nodes sit.
func mergeNodes(base, over *node, ptr string) *node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if base.kind != mapNode || over.kind != mapNode || atomic[ptr] {
		return over
	}
	out := &node{kind: mapNode, pos: over.pos}
	for i, k := range over.keys {
		v := over.vals[i]
		if bv, j := base.get(k); j >= 0 {
			if v.kind == nullNode {
				continue // "key: null" drops the inherited value
			}
			v = mergeNodes(bv, v, ptr+"/"+escapePtr(k))
		}
		out.keys = append(out.keys, k)
		out.keyPos = append(out.keyPos, over.keyPos[i])
		out.vals = append(out.vals, v)
	}
	for i, k := range base.keys {
		if _, j := over.get(k); j < 0 {
			out.keys = append(out.keys, k)
			out.keyPos = append(out.keyPos, base.keyPos[i])
			out.vals = append(out.vals, base.vals[i])
		}
	}
	return out
}

// pruneNulls removes mapping entries whose value is empty ("memory:" or
// "memory: null") with a warning: an empty value leaves the option
// unmanaged, which is rarely what was meant.
func pruneNulls(n *node, ptr string, diags Diagnostics) (*node, Diagnostics) {
	switch n.kind {
	case mapNode:
		var out *node
		for i, v := range n.vals {
			kptr := ptr + "/" + escapePtr(n.keys[i])
			if v.kind == nullNode {
				if out == nil {
					out = &node{kind: mapNode, pos: n.pos, keys: append([]string(nil), n.keys[:i]...),
						keyPos: append([]Position(nil), n.keyPos[:i]...), vals: append([]*node(nil), n.vals[:i]...)}
				}
				kp := n.keyPos[i]
				diags = append(diags, Diagnostic{File: kp.File, Line: kp.Line, Column: kp.Column, Path: kptr, Severity: SeverityWarning,
					Message: fmt.Sprintf("%s has no value, so it is not managed", label(kptr)), Hint: "write a value, or remove the key"})
				continue
			}
			var nv *node
			nv, diags = pruneNulls(v, kptr, diags)
			if out != nil {
				out.keys = append(out.keys, n.keys[i])
				out.keyPos = append(out.keyPos, n.keyPos[i])
				out.vals = append(out.vals, nv)
			} else if nv != v {
				out = &node{kind: mapNode, pos: n.pos, keys: append([]string(nil), n.keys...),
					keyPos: append([]Position(nil), n.keyPos...), vals: append([]*node(nil), n.vals...)}
				out.vals[i] = nv
			}
		}
		if out != nil {
			return out, diags
		}
	case seqNode:
		var out *node
		for i, it := range n.items {
			ni, ds := pruneNulls(it, fmt.Sprintf("%s/%d", ptr, i), diags)
			diags = ds
			if ni != it {
				if out == nil {
					out = &node{kind: seqNode, pos: n.pos, items: append([]*node(nil), n.items...)}
				}
				out.items[i] = ni
			}
		}
		if out != nil {
			return out, diags
		}
	}
	return n, diags
}

var knownKinds = []string{KindContainer, KindDefaults}

// validateDoc runs the schema, decodes and runs the semantic checks on one
// document tree. It returns nil when the document is not a mapping.
func validateDoc(r rawDoc) (*Document, Diagnostics) {
	if r.root.kind != mapNode {
		return nil, Diagnostics{{File: r.file, Line: r.pos.Line, Column: r.pos.Column, Value: r.root.display(),
			Message: "a spec document must be a mapping with apiVersion, kind, metadata and spec"}}
	}
	var diags Diagnostics
	kind := kindOf(r.root)
	kindNode, kindAt := r.root.get("kind")
	if kindAt >= 0 && kind != KindContainer && kind != KindDefaults {
		msg := fmt.Sprintf("unknown kind %q", kindNode.display())
		if s := suggest(kind, knownKinds); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		diags = append(diags, Diagnostic{File: kindNode.pos.File, Line: kindNode.pos.Line, Column: kindNode.pos.Column, Path: "/kind",
			Value: kindNode.display(), Message: msg, Hint: "kind is Container or Defaults"})
	}
	sd, bad := validateSchema(r, kind)
	for _, d := range sd {
		if d.Path == "/kind" && kindAt >= 0 && kind != KindContainer && kind != KindDefaults {
			continue // reported above, better
		}
		diags = append(diags, d)
	}
	doc := &Document{Source: r.pos}
	dec := decoder{skip: bad}
	dec.decode(r.root, "", reflect.ValueOf(doc).Elem(), "")
	diags = append(diags, dec.diags...)
	for _, d := range dec.diags {
		bad[d.Path] = true
	}
	if kind != KindDefaults {
		doc.Kind = KindContainer
	}
	c := checker{root: r.root, file: r.file, skip: bad}
	c.check(doc)
	diags = append(diags, c.diags...)
	return doc, diags
}

// normalize sorts diagnostics by position and drops exact repeats (a
// mistake in a Defaults file is found again in every container using it).
func (ds Diagnostics) normalize() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Message != b.Message {
			return a.Message < b.Message
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Hint != b.Hint {
			return a.Hint < b.Hint
		}
		return a.Value < b.Value
	})
	type key struct {
		file         string
		line, column int
		message      string
	}
	var out Diagnostics
	seen := map[key]bool{}
	perFile := map[string]int{}
	hiddenErrors := map[string]bool{}
	for _, d := range ds {
		k := key{d.File, d.Line, d.Column, d.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		perFile[d.File]++
		if perFile[d.File] <= MaxDiagnosticsPerFile {
			out = append(out, d)
		} else if d.Severity == SeverityError {
			hiddenErrors[d.File] = true
		}
	}
	if len(out) == 0 {
		return nil
	}
	// Say how many were left out, after each file's last one shown: one
	// pass into a new list (inserting in place would copy the rest of the
	// list once per file).
	withMore := make(Diagnostics, 0, len(out)+len(perFile))
	for i, d := range out {
		withMore = append(withMore, d)
		f := d.File
		if n := perFile[f] - MaxDiagnosticsPerFile; n > 0 && (i == len(out)-1 || out[i+1].File != f) {
			more := Diagnostic{File: f, Message: fmt.Sprintf("%d more problems in this file are not shown", n),
				Hint: "fix the ones above first", Severity: SeverityWarning}
			if hiddenErrors[f] {
				more.Severity = SeverityError
			}
			withMore = append(withMore, more)
		}
	}
	return withMore
}

// foreignManifest reports whether every document of a file is another
// tool's manifest: an apiVersion that is not felhom's (nor a near miss of
// it) and a kind, as Kubernetes manifests have. note says what was skipped.
func foreignManifest(raws []rawDoc) (note string, foreign bool) {
	var first string
	for _, r := range raws {
		if r.root == nil {
			continue
		}
		if r.root.kind != mapNode {
			return "", false
		}
		av, _ := r.root.get("apiVersion")
		kind := kindOf(r.root)
		api := av.str()
		if api == "" || kind == "" || strings.HasPrefix(strings.ToLower(api), "felhom") {
			return "", false
		}
		if first == "" {
			first = fmt.Sprintf("apiVersion %s, kind %s", api, kind)
		}
	}
	if first == "" {
		return "", false
	}
	return "not a felhom spec but another tool's manifest (" + first + "); skipped", true
}
