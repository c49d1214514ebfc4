package ctconf

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseError is a line of a config file that PVE's parser cannot read. PVE
// itself only warns and drops such a line; Parse refuses it so that no
// content is lost silently.
type ParseError struct {
	// Line is the 1-based line number.
	Line int
	// Text is the line as written.
	Text string
	// Msg is PVE's message without the "vm N - " prefix.
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// The patterns of parse_pct_config (pve-container src/PVE/LXC/Config.pm).
// Perl's \s on bytes is [\t\n\v\f\r ]; Go's \s lacks \v, so it is spelt out.
const (
	ws    = `[\t\n\v\f\r ]`
	nonWS = `[^\t\n\v\f\r ]`
)

var (
	blankRE     = regexp.MustCompile(`^` + ws + `*$`)
	pendingRE   = regexp.MustCompile(`(?i)^\[pve:pending\]` + ws + `*$`)
	snapshotRE  = regexp.MustCompile(`(?i)^\[([a-z][a-z0-9_\-]+)\]` + ws + `*$`)
	commentRE   = regexp.MustCompile(`^#(.*)$`)
	lxcRE       = regexp.MustCompile(`^(lxc\.[a-z0-9_\-\.]+)(:|` + ws + `*=)` + ws + `*(.*?)` + ws + `*$`)
	descrRE     = regexp.MustCompile(`^(description):` + ws + `*(.*` + nonWS + `)` + ws + `*$`)
	snapstateRE = regexp.MustCompile(`snapstate:` + ws + `*(prepare|delete)` + ws + `*$`)
	deleteRE    = regexp.MustCompile(`^delete:` + ws + `*(.*` + nonWS + `)` + ws + `*$`)
	keyRE       = regexp.MustCompile(`^([a-z][a-z_]*\d*):` + ws + `*(.+?)` + ws + `*$`)
)

// envKey is the lxc key PVE folds into the "env" option.
const envKey = "lxc.environment.runtime"

// Parse parses a config file as PVE's parse_pct_config does (pve-container
// src/PVE/LXC/Config.pm): blank lines are skipped; "[pve:pending]" and
// "[name]" start sections; '#' lines, wherever they are in a section, make
// its description (percent-decoded, one "\n" per line); lxc.* lines are kept
// in order, lxc.environment.runtime folded into "env"; "snapstate:",
// "delete:" (pending only) and "key: value" lines are read with their values
// trimmed; booleans and integers are normalised as check_type does. A
// repeated key or section replaces the earlier one, as in PVE's hashes.
//
// Lines PVE cannot parse, and "delete:" outside [pve:pending], are a
// *ParseError naming the line. What PVE only warns about (an unknown key, a
// value failing its type check; the value is kept, as PVE keeps it) goes to
// File.Warnings.
func Parse(text []byte) (*File, error) {
	f := &File{Main: NewSection(), Digest: Digest(text)}
	cur := f.Main
	inPending := false
	descr := ""
	endSection := func() {
		if perlTrue(descr) {
			cur.values["description"] = descr
		}
		descr = ""
	}
	for i, line := range strings.Split(string(text), "\n") {
		n := i + 1
		if blankRE.MatchString(line) {
			continue
		}
		if pendingRE.MatchString(line) {
			endSection()
			cur = NewSection()
			f.Pending = cur
			inPending = true
			continue
		}
		if m := snapshotRE.FindStringSubmatch(line); m != nil {
			endSection()
			cur = NewSection()
			f.putSnapshot(&Snapshot{Name: m[1], Section: cur})
			inPending = false
			continue
		}
		if m := commentRE.FindStringSubmatch(line); m != nil {
			descr += decodeText(m[1]) + "\n"
			continue
		}
		if m := lxcRE.FindStringSubmatch(line); m != nil {
			key, value := m[1], m[3]
			if key == envKey {
				if v, ok := cur.values["env"]; ok {
					cur.values["env"] = v + "\x00" + value
				} else {
					cur.values["env"] = value
				}
			} else {
				cur.Lxc = append(cur.Lxc, LxcEntry{Key: key, Value: value})
			}
			continue
		}
		if m := descrRE.FindStringSubmatch(line); m != nil {
			descr += decodeText(m[2])
			continue
		}
		if m := snapstateRE.FindStringSubmatch(line); m != nil {
			cur.values["snapstate"] = m[1]
			continue
		}
		if m := deleteRE.FindStringSubmatch(line); m != nil {
			if !inPending {
				return nil, &ParseError{Line: n, Text: line, Msg: "property 'delete' is only allowed in [pve:pending]"}
			}
			cur.values["delete"] = m[1]
			continue
		}
		if m := keyRE.FindStringSubmatch(line); m != nil {
			key, value := m[1], m[2]
			v, err := checkType(key, value)
			if err != nil {
				f.Warnings = append(f.Warnings, fmt.Sprintf("line %d: unable to parse value of '%s' - %s", n, key, err))
			} else {
				value = v
			}
			cur.values[key] = value
			continue
		}
		return nil, &ParseError{Line: n, Text: line, Msg: "unable to parse config: " + line}
	}
	endSection()
	// parse_pct_config: "delete $res->{snapstate}; # just to be sure"
	delete(f.Main.values, "snapstate")
	return f, nil
}

// putSnapshot adds s, replacing a section of the same name in place.
func (f *File) putSnapshot(s *Snapshot) {
	for i, old := range f.Snapshots {
		if old.Name == s.Name {
			f.Snapshots[i] = s
			return
		}
	}
	f.Snapshots = append(f.Snapshots, s)
}

// Digest returns the SHA1 hex of text: PVE's config digest
// (parse_pct_config: Digest::SHA::sha1_hex($raw) of the whole file).
func Digest(text []byte) string {
	sum := sha1.Sum(text)
	return hex.EncodeToString(sum[:])
}

// Bytes writes the file as PVE's write_pct_config does: the main section,
// "\n[pve:pending]\n" and the pending section when it has any content, then
// "\n[name]\n" and each snapshot, sorted by name. In each section the
// description comes first as '#' lines (percent-encoded as encode_text
// does), then the keys sorted ("key: value"), then env as
// lxc.environment.runtime lines, then the raw lxc.* lines in order. An
// unusedN of the main section whose volume a mount point of the main section
// still uses is left out, as PVE leaves it out. A file PVE wrote round-trips
// byte for byte.
func (f *File) Bytes() []byte {
	var b strings.Builder
	var used map[string]bool // parsed at the first unusedN: most files have none
	writeSection(&b, f.Main, func(key, value string) bool {
		if key == "snapstate" {
			return false
		}
		if !strings.HasPrefix(key, "unused") {
			return true
		}
		if used == nil {
			used = usedVolumes(f.Main)
		}
		return !used[value]
	})
	if f.Pending != nil && !f.Pending.empty() {
		b.WriteString("\n[pve:pending]\n")
		writeSection(&b, f.Pending, nil)
	}
	snaps := append([]*Snapshot(nil), f.Snapshots...)
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].Name < snaps[j].Name })
	for _, s := range snaps {
		b.WriteString("\n[" + s.Name + "]\n")
		writeSection(&b, s.Section, nil)
	}
	return []byte(b.String())
}

// skipOnWrite are the hash keys generate_raw_config does not write as
// "key: value" lines.
var skipOnWrite = map[string]bool{
	"digest": true, "description": true, "pending": true, "snapshots": true,
	"snapname": true, "env": true, "lxc": true,
}

func writeSection(b *strings.Builder, s *Section, keep func(key, value string) bool) {
	if d := s.values["description"]; perlTrue(d) {
		for _, line := range perlSplit(d, "\n") {
			b.WriteString("#" + encodeText(line) + "\n")
		}
	}
	for _, k := range s.Keys() {
		v := s.values[k]
		if skipOnWrite[k] || (keep != nil && !keep(k, v)) {
			continue
		}
		b.WriteString(k + ": " + v + "\n")
	}
	if env := s.values["env"]; perlTrue(env) {
		for _, v := range perlSplitNULs(env) {
			b.WriteString(envKey + ": " + v + "\n")
		}
	}
	for _, e := range s.Lxc {
		if e.Key == envKey {
			continue
		}
		b.WriteString(e.Key + ": " + e.Value + "\n")
	}
}

// perlTrue is Perl's truth of a defined string: neither "" nor "0".
func perlTrue(s string) bool { return s != "" && s != "0" }

// perlSplit is Perl's split with a literal separator: trailing empty
// fields are removed.
func perlSplit(s, sep string) []string { return dropTrailingEmpty(strings.Split(s, sep)) }

// nulsRE is the separator of split(/\0+/, $env).
var nulsRE = regexp.MustCompile(`\x00+`)

// perlSplitNULs is split(/\0+/, $env).
func perlSplitNULs(s string) []string { return dropTrailingEmpty(nulsRE.Split(s, -1)) }

// dropTrailingEmpty removes the trailing empty fields, as Perl's split does.
func dropTrailingEmpty(parts []string) []string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// encodeText is pve-common PVE::ParseUtils::encode_text: UTF-8 bytes other
// than printable ASCII, and '%' and ':', become %XX (uppercase).
func encodeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '%' && c != ':' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// decodeText is PVE::ParseUtils::decode_text: %XX escapes (either case)
// become bytes, then the bytes are read as UTF-8 (invalid sequences become
// U+FFFD, as Encode::decode substitutes them).
func decodeText(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(v))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// NewSection returns an empty section.
func NewSection() *Section { return &Section{values: map[string]string{}} }

// Get returns the value of key in s.
func (s *Section) Get(key string) (string, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Set sets key to value in s. Values must not contain a newline, except
// "description".
func (s *Section) Set(key, value string) {
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[key] = value
}

// Delete removes key from s.
func (s *Section) Delete(key string) { delete(s.values, key) }

// Keys returns the keys of s, sorted ("description", "env" and, in the
// pending section, "delete" included).
func (s *Section) Keys() []string { return sortedKeys(s.values) }

// Values returns a copy of the section's keys and values.
func (s *Section) Values() map[string]string {
	res := make(map[string]string, len(s.values))
	for k, v := range s.values {
		res[k] = v
	}
	return res
}

// Description returns the section's description ("" when none).
func (s *Section) Description() string { return s.values["description"] }

// empty reports whether the section has no content at all (PVE writes the
// pending section only when its hash has a key).
func (s *Section) empty() bool { return len(s.values) == 0 && len(s.Lxc) == 0 }

func (s *Section) clone() *Section {
	c := &Section{values: make(map[string]string, len(s.values))}
	for k, v := range s.values {
		c.values[k] = v
	}
	c.Lxc = append([]LxcEntry(nil), s.Lxc...)
	return c
}

// Get returns the current value of key (main section).
func (f *File) Get(key string) (string, bool) { return f.Main.Get(key) }

// Set sets key in the main section.
func (f *File) Set(key, value string) { f.Main.Set(key, value) }

// Delete removes key from the main section.
func (f *File) Delete(key string) { f.Main.Delete(key) }

// Snapshot returns the snapshot section called name, or nil.
func (f *File) Snapshot(name string) *Snapshot {
	for _, s := range f.Snapshots {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Clone returns a deep copy of f.
func (f *File) Clone() *File {
	c := &File{Main: f.Main.clone(), Digest: f.Digest}
	if f.Pending != nil {
		c.Pending = f.Pending.clone()
	}
	for _, s := range f.Snapshots {
		c.Snapshots = append(c.Snapshots, &Snapshot{Name: s.Name, Section: s.Section.clone()})
	}
	c.Warnings = append([]string(nil), f.Warnings...)
	return c
}

// pending returns the pending section, creating it when there is none.
func (f *File) pending() *Section {
	if f.Pending == nil {
		f.Pending = NewSection()
	}
	return f.Pending
}

// tidyPending drops an empty pending section (File.Pending is nil when
// there is none).
func (f *File) tidyPending() {
	if f.Pending != nil && f.Pending.empty() {
		f.Pending = nil
	}
}

// Snaptime returns the snapshot's snaptime (0 when missing, as GET
// .../snapshot reports it).
func (s *Snapshot) Snaptime() int64 {
	v, _ := strconv.ParseInt(s.values["snaptime"], 10, 64)
	return v
}

// Parent returns the snapshot's parent ("" when none).
func (s *Snapshot) Parent() string { return s.values["parent"] }

// Snapstate returns "prepare" or "delete" for an unfinished snapshot
// operation, else "".
func (s *Snapshot) Snapstate() string { return s.values["snapstate"] }
