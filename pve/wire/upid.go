package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// UPID identifies a PVE task ("unique process id"). PVE prints it as
//
//	UPID:<node>:<pid %08X>:<pstart %08X>:<starttime %08X>:<type>:<id>:<user>:
//
// (pve-common src/PVE/Tools.pm upid_encode), with a trailing colon. pstart
// may take 9 hex digits after 497 days of uptime; the decoder accepts either
// hex case (upid_decode). id may be empty (a vzdump of several guests).
type UPID struct {
	Node      string    // node that runs the task
	PID       uint32    // worker process id
	PStart    uint64    // worker start, in clock ticks since boot
	StartTime time.Time // task start (whole seconds, UTC)
	Type      string    // task type: vzsnapshot, vzdump, resize, ...
	ID        string    // usually the vmid; may be empty
	User      string    // full auth id, e.g. root@pam or felhom@pve!ci
}

// upidRE is upid_decode's pattern (pve-common src/PVE/Tools.pm). Perl's \s
// includes the vertical tab (since Perl 5.18), RE2's does not: it is added.
var upidRE = regexp.MustCompile(`^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s\v]+):([^:\s\v]*):([^:\s\v]+):$`)

// ParseUPID parses s exactly as PVE's upid_decode does.
func ParseUPID(s string) (UPID, error) {
	m := upidRE.FindStringSubmatch(s)
	if m == nil {
		return UPID{}, fmt.Errorf("unable to parse worker upid %q", s)
	}
	pid, _ := strconv.ParseUint(m[2], 16, 32)
	pstart, _ := strconv.ParseUint(m[3], 16, 64)
	start, _ := strconv.ParseUint(m[4], 16, 32)
	return UPID{
		Node:      m[1],
		PID:       uint32(pid),
		PStart:    pstart,
		StartTime: time.Unix(int64(start), 0).UTC(),
		Type:      m[5],
		ID:        m[6],
		User:      m[7],
	}, nil
}

// String prints u as upid_encode does. For every UPID PVE emits (upper-case
// hex) ParseUPID(s).String() == s; lower-case hex is printed upper-case.
func (u UPID) String() string {
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", u.Node, u.PID, u.PStart, u.StartTime.Unix(), u.Type, u.ID, u.User)
}

// IsZero reports whether u is the zero UPID.
func (u UPID) IsZero() bool { return u == UPID{} }

// MarshalText prints u as String does, so a UPID is a string in JSON; the
// zero UPID is the empty string.
func (u UPID) MarshalText() ([]byte, error) {
	if u.IsZero() {
		return []byte{}, nil
	}
	return []byte(u.String()), nil
}

// UnmarshalText parses a UPID as ParseUPID does; "" gives the zero UPID.
func (u *UPID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*u = UPID{}
		return nil
	}
	p, err := ParseUPID(string(b))
	if err != nil {
		return err
	}
	*u = p
	return nil
}
