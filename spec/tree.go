package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or broken file from costing more than a quick
// error. Real spec files are a few KiB with a nesting depth below 10.
const (
	// MaxFileSize is the largest spec file read, in bytes.
	MaxFileSize = 1 << 20
	// MaxDocuments is the most YAML documents one file may hold.
	MaxDocuments = 1000
	// MaxDepth is the deepest nesting of mappings and sequences accepted.
	MaxDepth = 32
	// MaxNodes is the most values one document may expand to, aliases
	// included (this is what stops a "billion laughs" alias bomb).
	MaxNodes = 20000
	// MaxFileNodes is the most values all documents of one file may expand to.
	MaxFileNodes = 200000
	// MaxFiles is the most spec files Load reads under one root.
	MaxFiles = 10000
	// MaxDiagnosticsPerFile is the most diagnostics reported for one file;
	// the rest are counted in a last one.
	MaxDiagnosticsPerFile = 100
)

type nodeKind int

const (
	nullNode nodeKind = iota
	scalarNode
	mapNode
	seqNode
)

// node is a YAML value with its position, after alias expansion. Scalars
// hold their JSON value (bool, json.Number or string).
type node struct {
	kind   nodeKind
	pos    Position
	raw    string // scalar as written
	scalar any    // bool, json.Number, string
	quoted bool   // a single- or double-quoted scalar (its text starts one column later)

	keys   []string
	keyPos []Position
	vals   []*node
	index  map[string]int // key -> position in keys, built by get for large mappings

	items []*node
}

// indexFrom is the size from which get indexes a mapping's keys instead of
// scanning them: lookups for diagnostics and Defaults merging ask for every
// key of a mapping, which would cost keys x keys on a large one.
const indexFrom = 16

// get returns the value of key in a mapping and its position in keys, or
// nil, -1. Keys are unique within a mapping (duplicates are dropped when
// converting), so an index whose size differs from the keys' is stale and is
// rebuilt.
func (n *node) get(key string) (*node, int) {
	if n == nil || n.kind != mapNode {
		return nil, -1
	}
	if len(n.keys) >= indexFrom {
		if len(n.index) != len(n.keys) {
			n.index = make(map[string]int, len(n.keys))
			for i, k := range n.keys {
				n.index[k] = i
			}
		}
		if i, ok := n.index[key]; ok {
			return n.vals[i], i
		}
		return nil, -1
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], i
		}
	}
	return nil, -1
}

// str returns the scalar's string value, or "".
func (n *node) str() string {
	if n == nil || n.kind != scalarNode {
		return ""
	}
	if s, ok := n.scalar.(string); ok {
		return s
	}
	return n.raw
}

// value converts n to the JSON-like value the schema validator takes.
func (n *node) value() any {
	switch n.kind {
	case scalarNode:
		return n.scalar
	case mapNode:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].value()
		}
		return m
	case seqNode:
		s := make([]any, len(n.items))
		for i, it := range n.items {
			s[i] = it.value()
		}
		return s
	}
	return nil
}

// display renders n shortly for a diagnostic's Value.
func (n *node) display() string {
	if n == nil {
		return ""
	}
	var s string
	switch n.kind {
	case nullNode:
		return "null"
	case scalarNode:
		s = n.raw
	default:
		b, _ := json.Marshal(n.value())
		s = string(b)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// lookup follows a JSON pointer from n. It returns the node and the position
// of the key that holds it (the node's own position for list items and the
// root).
func (n *node) lookup(ptr string) (*node, Position) {
	cur, at := n, n.pos
	if ptr == "" {
		return cur, at
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch {
		case cur == nil:
			return nil, at
		case cur.kind == mapNode:
			v, i := cur.get(tok)
			if i < 0 {
				return nil, at
			}
			cur, at = v, cur.keyPos[i]
		case cur.kind == seqNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(cur.items) {
				return nil, at
			}
			cur = cur.items[i]
			at = cur.pos
		default:
			return nil, at
		}
	}
	return cur, at
}

// rawDoc is one parsed YAML document of a file.
type rawDoc struct {
	file string
	root *node // nil for an empty document
	pos  Position
}

// parseFile splits data into YAML documents and converts each to a node
// tree, within the limits above. A syntax error costs only its document:
// documents are split on "---" lines first, so the others still validate.
func parseFile(name string, data []byte) ([]rawDoc, Diagnostics) {
	var diags Diagnostics
	if len(data) > MaxFileSize {
		return nil, Diagnostics{{File: name, Message: fmt.Sprintf("file is %d bytes; spec files may be at most %d", len(data), MaxFileSize),
			Hint: "split it into several files"}}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, Diagnostics{{File: name, Message: "file contains NUL bytes; it is not a YAML text file"}}
	}
	chunks, tooMany := splitDocuments(data)
	if tooMany {
		return nil, Diagnostics{{File: name, Line: chunks[len(chunks)-1].lineOffset + 1, Column: 1,
			Message: fmt.Sprintf("file has more than %d documents; at most %d are read", MaxDocuments, MaxDocuments),
			Hint:    "split it into several files"}}
	}
	var docs []rawDoc
	budget := MaxFileNodes
	for _, c := range chunks {
		d, ds := parseChunk(name, c, &budget)
		diags = append(diags, ds...)
		docs = append(docs, d...)
		if len(docs) > MaxDocuments {
			return nil, append(diags, Diagnostic{File: name, Message: fmt.Sprintf("file has more than %d documents", MaxDocuments)})
		}
	}
	return docs, diags
}

type chunk struct {
	data       []byte
	lineOffset int // lines before the chunk in the file
}

// splitDocuments cuts the file at lines that start a document ("---"). A
// "---" at column 0 cannot occur inside a YAML scalar, so this is safe;
// files with directives ("%YAML") are left whole for yaml.v3 to handle.
// It stops at the first chunk beyond MaxDocuments and reports tooMany then,
// so a file of nothing but "---" lines costs one pass over its first
// MaxDocuments+1 documents, not one chunk per line.
func splitDocuments(data []byte) (chunks []chunk, tooMany bool) {
	if bytes.HasPrefix(data, []byte("%")) || bytes.Contains(data, []byte("\n%")) {
		return []chunk{{data: data}}, false
	}
	start, startLine := 0, 0 // byte offset and line number of the current chunk
	line := 0
	for off := 0; off < len(data); line++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if line > 0 && isDocMarker(data[off:next]) {
			chunks = append(chunks, chunk{data: data[start:off], lineOffset: startLine})
			if len(chunks) > MaxDocuments {
				return chunks, true
			}
			start, startLine = off, line
		}
		off = next
	}
	return append(chunks, chunk{data: data[start:], lineOffset: startLine}), false
}

// isDocMarker reports whether a line starts a document: "---" followed by
// white space or the end of the line.
func isDocMarker(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\n' || l[3] == '\r' || l[3] == '\f'
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseChunk parses one chunk (normally one document) with yaml.v3.
func parseChunk(name string, c chunk, budget *int) (docs []rawDoc, diags Diagnostics) {
	defer func() {
		// yaml.v3 has panicked on some inputs in the past; a spec file must
		// never crash felhom.
		if r := recover(); r != nil {
			docs = nil
			diags = Diagnostics{{File: name, Line: c.lineOffset + 1, Column: 1, Message: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	if d := invalidUTF8(name, c.data, c.lineOffset); d != nil {
		return nil, Diagnostics{*d}
	}
	dec := yaml.NewDecoder(bytes.NewReader(c.data))
	for {
		var yn yaml.Node
		err := dec.Decode(&yn)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return docs, diags
			}
			d := Diagnostic{File: name, Line: c.lineOffset + 1, Column: 1, Message: strings.TrimPrefix(err.Error(), "yaml: "),
				Hint: "fix the YAML syntax; the rest of this document is not checked"}
			if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
				l, _ := strconv.Atoi(m[1])
				d.Line, d.Column, d.Message = c.lineOffset+l, 0, m[2]
			}
			if h := syntaxHint(d.Message); h != "" {
				d.Hint = h + "; " + d.Hint
			}
			d.Message = "YAML syntax: " + d.Message
			if l, col, ok := syntaxPosition(c.data, err.Error()); ok {
				d.Line, d.Column = c.lineOffset+l, col
			}
			return docs, append(diags, d)
		}
		if len(docs) >= MaxDocuments {
			return docs, append(diags, Diagnostic{File: name, Line: c.lineOffset + yn.Line, Message: fmt.Sprintf("file has more than %d documents", MaxDocuments)})
		}
		if *budget <= 0 {
			return docs, append(diags, Diagnostic{File: name, Line: c.lineOffset + yn.Line, Column: yn.Column,
				Message: fmt.Sprintf("file has more than %d values (after expanding aliases)", MaxFileNodes), Hint: "split it into several files"})
		}
		cv := converter{file: name, lineOffset: c.lineOffset}
		doc := rawDoc{file: name, pos: cv.position(&yn)}
		if len(yn.Content) > 0 {
			doc.pos = cv.position(yn.Content[0])
			root := cv.convert(yn.Content[0], 1)
			*budget -= cv.count
			if cv.diag != nil {
				diags = append(diags, *cv.diag)
				continue
			}
			diags = append(diags, cv.dups...)
			if root.kind != nullNode {
				doc.root = root
			}
		}
		docs = append(docs, doc)
	}
}

// converter turns a yaml.Node tree into nodes, expanding aliases and merge
// keys, and stops at the first limit it hits.
type converter struct {
	file       string
	lineOffset int
	count      int
	active     map[*yaml.Node]bool // aliases being expanded, to catch cycles
	diag       *Diagnostic         // the fatal problem, if any
	dups       Diagnostics         // duplicate keys
}

func (c *converter) position(y *yaml.Node) Position {
	return Position{File: c.file, Line: y.Line + c.lineOffset, Column: y.Column}
}

func (c *converter) fail(y *yaml.Node, msg, hint string) *node {
	if c.diag == nil {
		p := c.position(y)
		c.diag = &Diagnostic{File: c.file, Line: p.Line, Column: p.Column, Message: msg, Hint: hint}
	}
	return &node{kind: nullNode, pos: c.position(y)}
}

func (c *converter) convert(y *yaml.Node, depth int) *node {
	if c.diag != nil {
		return &node{}
	}
	c.count++
	if c.count > MaxNodes {
		return c.fail(y, fmt.Sprintf("document has more than %d values (after expanding aliases)", MaxNodes),
			"a spec document is small; look for aliases that expand into each other")
	}
	if depth > MaxDepth {
		return c.fail(y, fmt.Sprintf("values are nested more than %d levels deep", MaxDepth), "")
	}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return c.fail(y, "unknown alias *"+y.Value, "")
		}
		if c.active == nil {
			c.active = map[*yaml.Node]bool{}
		}
		if c.active[y.Alias] {
			return c.fail(y, "alias *"+y.Value+" refers to itself", "")
		}
		c.active[y.Alias] = true
		n := c.convert(y.Alias, depth)
		delete(c.active, y.Alias)
		return n
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: nullNode, pos: c.position(y)}
		}
		return c.convert(y.Content[0], depth)
	case yaml.SequenceNode:
		n := &node{kind: seqNode, pos: c.position(y), items: make([]*node, 0, len(y.Content))}
		for _, it := range y.Content {
			n.items = append(n.items, c.convert(it, depth+1))
		}
		return n
	case yaml.MappingNode:
		return c.convertMap(y, depth)
	case yaml.ScalarNode:
		return c.scalar(y)
	}
	return c.fail(y, "unsupported YAML node", "")
}

func (c *converter) convertMap(y *yaml.Node, depth int) *node {
	n := &node{kind: mapNode, pos: c.position(y)}
	first := map[string]Position{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return c.fail(k, "mapping keys must be plain words", "")
		}
		kp := c.position(k)
		if p, dup := first[k.Value]; dup {
			c.count++ // a repeated key costs like any value, so a file of them stops at the limit
			if c.count > MaxNodes {
				return c.fail(k, fmt.Sprintf("document has more than %d values", MaxNodes), "")
			}
			c.dups = append(c.dups, Diagnostic{File: c.file, Line: kp.Line, Column: kp.Column, Value: k.Value,
				Message: fmt.Sprintf("key %q is used twice (first at line %d)", k.Value, p.Line),
				Hint:    "each key, and each slot such as net0 or mp0, may appear once; the last one would silently win"})
			continue
		}
		first[k.Value] = kp
		n.keys = append(n.keys, k.Value)
		n.keyPos = append(n.keyPos, kp)
		n.vals = append(n.vals, c.convert(v, depth+1))
	}
	// Merge keys ("<<: *base"): keys written here win over merged ones.
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			mn := c.convert(s, depth)
			if c.diag != nil {
				return n
			}
			if mn.kind != mapNode {
				return c.fail(s, "a merge key (<<) needs a mapping or a list of mappings", "")
			}
			for i, k := range mn.keys {
				if _, ok := first[k]; !ok {
					first[k] = mn.keyPos[i]
					n.keys = append(n.keys, k)
					n.keyPos = append(n.keyPos, mn.keyPos[i])
					n.vals = append(n.vals, mn.vals[i])
				}
			}
		}
	}
	return n
}

func (c *converter) scalar(y *yaml.Node) *node {
	n := &node{kind: scalarNode, pos: c.position(y), raw: y.Value, scalar: y.Value,
		quoted: y.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0}
	switch y.ShortTag() {
	case "!!null":
		n.kind, n.scalar = nullNode, nil
	case "!!bool":
		var b bool
		if y.Decode(&b) == nil {
			n.scalar = b
		}
	case "!!int":
		var v any
		if y.Decode(&v) == nil {
			switch i := v.(type) {
			case int:
				n.scalar = json.Number(strconv.Itoa(i))
			case int64:
				n.scalar = json.Number(strconv.FormatInt(i, 10))
			case uint64:
				n.scalar = json.Number(strconv.FormatUint(i, 10))
			}
		}
	case "!!float":
		var f float64
		if y.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			n.scalar = json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n
}
