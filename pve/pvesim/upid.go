package pvesim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// upid is a task id as PVE's worker makes it. The simulator encodes and
// decodes UPIDs itself, from pve-common src/PVE/Tools.pm, and never with
// the client's code (pve/wire), so that a bug in either shows as a
// disagreement in tests instead of hiding in shared code.
type upid struct {
	node      string
	pid       uint64 // worker pid
	pstart    uint64 // worker start in clock ticks since boot
	starttime int64  // Unix seconds
	typ, id   string
	user      string // the auth id: user@realm or user@realm!token
}

// String is upid_encode: sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", ...),
// so pstart takes a ninth digit after 497 days of uptime.
func (u upid) String() string {
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", u.node, u.pid, u.pstart, u.starttime, u.typ, u.id, u.user)
}

// parseUPID is upid_decode: the pattern
//
//	^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$
//
// written out field by field. Perl's $ also matches before a final
// newline, so one trailing "\n" is accepted here as there; the task file is
// named by the string as given (Tasks.pm: "no such task" if ! -f
// $filename), so callers look tasks up by the raw string, not by the
// re-encoded one, and a lower-case or newline-ended UPID names no task.
func parseUPID(s string) (upid, bool) {
	s = strings.TrimSuffix(s, "\n")
	rest, ok := strings.CutPrefix(s, "UPID:")
	if !ok {
		return upid{}, false
	}
	f := strings.Split(rest, ":")
	// node, pid, pstart, starttime, type, id, user, and "" after the final colon.
	if len(f) != 8 || f[7] != "" {
		return upid{}, false
	}
	node, pid, pstart, start, typ, id, user := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	if !nodeNameOK(node) || !hexLen(pid, 8, 8) || !hexLen(pstart, 8, 9) || !hexLen(start, 8, 8) ||
		typ == "" || hasSpace(typ) || hasSpace(id) || user == "" || hasSpace(user) {
		return upid{}, false
	}
	u := upid{node: node, typ: typ, id: id, user: user}
	u.pid, _ = strconv.ParseUint(pid, 16, 64)
	u.pstart, _ = strconv.ParseUint(pstart, 16, 64)
	st, _ := strconv.ParseUint(start, 16, 64)
	u.starttime = int64(st)
	return u, true
}

// startTime is the task's start as a time.
func (u upid) startTime() time.Time { return time.Unix(u.starttime, 0).UTC() }

// nodeNameOK: [a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?
func nodeNameOK(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// hexLen: between lo and hi hex digits of either case.
func hexLen(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// hasSpace: a character of Perl's \s (ASCII: space, \t, \n, \v, \f, \r).
func hasSpace(s string) bool { return strings.ContainsAny(s, " \t\n\v\f\r") }
