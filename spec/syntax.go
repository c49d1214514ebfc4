package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yaml.v3 does not say where a syntax error is. Its message carries "line N"
// of the error's context mark when that is set (the start of the enclosing
// block or flow collection, 0-based for parser errors) and of the problem
// mark only otherwise, and never a column (go.yaml.in/yaml/v3 decode.go,
// parser.fail); on a document's first line it carries no line at all. The
// problem mark itself is not exported. So the place is found by asking
// yaml.v3 again: the problem is at the end of the shortest prefix of the
// text that fails with the same message. yaml.v3 reads its input in order
// and fails on the first character (scanner errors) or the first character
// of the token (parser errors) it cannot take, and a shorter prefix ends the
// stream before that character, so below that length the message differs or
// there is none (but see closer below). Only on error, at most about 21
// parses of one document (twice that for an error in a flow collection).

// maxLocateSize bounds the documents whose syntax errors are placed by
// re-parsing: each parse costs about as much as the document (a 1 MiB one
// takes seconds 21 times over). Real spec documents are a few KiB; a larger
// one gets the line yaml.v3's message names.
const maxLocateSize = 32 << 10

// syntaxPosition returns the 1-based line and column (in characters, as
// yaml.v3 counts them) of the syntax error msg that parsing data gave. ok
// is false when the error cannot be reproduced (a recovered panic) or data is
// larger than maxLocateSize.
func syntaxPosition(data []byte, msg string) (line, col int, ok bool) {
	if len(data) > maxLocateSize {
		return 0, 0, false
	}
	// A prefix that ends inside a flow collection fails at its end with
	// the same "did not find expected ',' or '}'" as a real error later in
	// that collection. Such a prefix stops failing so once closers are added
	// after it; a real error before its end does not.
	closer := ""
	switch {
	case strings.HasSuffix(msg, "did not find expected ',' or '}'"):
		closer = "\n" + strings.Repeat("}", 64)
	case strings.HasSuffix(msg, "did not find expected ',' or ']'"):
		closer = "\n" + strings.Repeat("]", 64)
	}
	fails := func(n int) bool {
		if firstYAMLError(data[:n]) != msg {
			return false
		}
		return closer == "" || n == len(data) || firstYAMLError(append(data[:n:n], closer...)) == msg
	}
	if !fails(len(data)) {
		return 0, 0, false
	}
	// Binary search over rune boundaries: the smallest n with fails(n).
	lo, hi := 0, len(data)
	for lo < hi {
		mid := runeBoundary(data, lo+(hi-lo)/2)
		if mid >= hi {
			break
		}
		if fails(mid) {
			hi = mid
		} else {
			lo = runeBoundary(data, mid+1)
		}
	}
	off := max(hi-1, 0)
	for off > 0 && !utf8.RuneStart(data[off]) {
		off--
	}
	switch {
	case data[off] == '\r' || data[off] == '\n':
		// The break was needed (the error is at the start of the next line,
		// or at the end of the stream after it).
		off = hi
	case data[off] == ':' && !strings.HasSuffix(msg, "mapping values are not allowed in this context"):
		// The ':' made the text before it a key (yaml.v3 inserts the key
		// token at the key's start only once it sees the ':'): the problem
		// is that key, except for the one error about the ':' itself.
		off = keyStart(data, off)
	case strings.HasPrefix(msg, "yaml: unknown anchor "):
		// The name was needed whole: the alias starts at its '*'.
		if i := bytes.LastIndexByte(data[:hi], '*'); i >= 0 {
			off = i
		}
	}
	line, col = offsetPosition(data, off)
	return line, col, true
}

// keyStart returns where the key ends that the ':' at off follows on its
// line: a quoted key's opening quote, or a plain key's first character after
// the indentation, a "- " or "? " indicator, or a flow ',', '{' or '['.
func keyStart(data []byte, off int) int {
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	i := off
	for i > ls && blank(data[i-1]) {
		i--
	}
	if i > ls && (data[i-1] == '"' || data[i-1] == '\'') {
		if j := bytes.LastIndexByte(data[ls:i-1], data[i-1]); j >= 0 {
			return ls + j
		}
	}
	for i > ls {
		c := data[i-1]
		if c == ',' || c == '{' || c == '[' {
			break
		}
		if blank(c) && i-2 >= ls && (data[i-2] == '-' || data[i-2] == '?') && (i-2 == ls || blank(data[i-3])) {
			break
		}
		i--
	}
	for i < off && blank(data[i]) {
		i++
	}
	return i
}

// runeBoundary is the first rune boundary at or after n (len(data) at most).
func runeBoundary(data []byte, n int) int {
	for n < len(data) && !utf8.RuneStart(data[n]) {
		n++
	}
	return min(n, len(data))
}

// firstYAMLError parses data's documents with yaml.v3 as parseChunk does and
// returns the first error's text ("" when there is none).
func firstYAMLError(data []byte) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var yn yaml.Node
		if err := dec.Decode(&yn); err != nil {
			if errors.Is(err, io.EOF) {
				return ""
			}
			return err.Error()
		}
	}
}

// offsetPosition turns a byte offset into a 1-based line and column, the
// column counted in characters.
func offsetPosition(data []byte, off int) (line, col int) {
	before := data[:off]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte("\n")) + 1, utf8.RuneCount(before[start:]) + 1
}

// invalidUTF8 returns a diagnostic placing the first byte of data that is
// not UTF-8 (yaml.v3 reports it without a position), or nil when data is
// UTF-8. lineOffset is the number of lines before data in its file.
func invalidUTF8(name string, data []byte, lineOffset int) *Diagnostic {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line, col := offsetPosition(data, off)
	return &Diagnostic{File: name, Line: lineOffset + line, Column: col,
		Message: fmt.Sprintf("byte 0x%02x is not UTF-8 text", data[off]),
		Hint:    "save the file as UTF-8; the rest of this document is not checked"}
}
