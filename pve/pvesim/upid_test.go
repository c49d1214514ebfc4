package pvesim

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/wire"
)

// TestUPIDReference: every UPID in the reference answers parses, its fields
// are the ones PVE sent beside it (node, pid, pstart, starttime, type, id,
// user and tokenid), and it prints back as it came.
func TestUPIDReference(t *testing.T) {
	n := 0
	for _, path := range testref.Glob(t, "pve-api/responses/*.json") {
		var doc any
		if err := json.Unmarshal(testref.Read(t, filepath.Join("pve-api/responses", filepath.Base(path))), &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, m := range upidObjects(doc) {
			n++
			s := m["upid"].(string)
			if i := strings.LastIndexByte(s, ':'); i >= 0 && i < len(s)-1 {
				// proxmoxer's fixtures appended a word after the final
				// colon (responses/README.md): strip it.
				s = s[:i+1]
			}
			u, ok := parseUPID(s)
			if !ok {
				t.Errorf("%s: %q does not parse", filepath.Base(path), s)
				continue
			}
			user := m["user"].(string)
			if tok, _ := m["tokenid"].(string); tok != "" {
				user += "!" + tok
			}
			num := func(k string) int64 { f, _ := m[k].(float64); return int64(f) }
			want := upid{node: m["node"].(string), pid: uint64(num("pid")), pstart: uint64(num("pstart")), starttime: num("starttime"),
				typ: m["type"].(string), id: m["id"].(string), user: user}
			if u != want {
				t.Errorf("%s: %q parses to %+v, the answer says %+v", filepath.Base(path), s, u, want)
			}
			if u.String() != s {
				t.Errorf("%s: %q prints back as %q", filepath.Base(path), s, u.String())
			}
		}
	}
	if n < 5 {
		t.Fatalf("found %d UPIDs in the reference answers, want at least 5", n)
	}
	t.Logf("%d reference UPIDs", n)
}

// upidObjects returns the objects below v that carry a "upid" string.
func upidObjects(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["upid"].(string); ok {
			out = append(out, x)
		}
		for _, c := range x {
			out = append(out, upidObjects(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, upidObjects(c)...)
		}
	}
	return out
}

func TestParseUPIDEdges(t *testing.T) {
	for _, tt := range []struct {
		in    string
		ok    bool
		print string // when ok
	}{
		{"UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:", true, "UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:"},
		{"UPID:node-a:0000377E:119E15146:5F3C0469:vzshutdown:100:root@pam:", true, "UPID:node-a:0000377E:119E15146:5F3C0469:vzshutdown:100:root@pam:"},
		{"UPID:host01:0000377e:19e15146:5f3c0469:vzshutdown:100:root@pam:", true, "UPID:host01:0000377E:19E15146:5F3C0469:vzshutdown:100:root@pam:"},
		{"UPID:a:00000000:00000000:00000000:t::u:", true, "UPID:a:00000000:00000000:00000000:t::u:"},
		// Perl's $ matches before a final newline.
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:\n", true, "UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:"},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:\n\n", false, ""},
		{"", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:x", false, ""},
		{"UPID:pve2:3E968C:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve2:003E968C:1016E64140:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D7:vzclone:999:root@pam:", false, ""},
		{"UPID:-pve:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve-:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve.x:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74::999:root@pam:", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vz\tclone:999:root@pam:", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:9 9:root@pam:", false, ""},
		{"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999::", false, ""},
		{"upid:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
		{"UPID:pve2:003E968G:016E6414:63AD7D74:vzclone:999:root@pam:", false, ""},
	} {
		u, ok := parseUPID(tt.in)
		if ok != tt.ok {
			t.Errorf("parseUPID(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && u.String() != tt.print {
			t.Errorf("parseUPID(%q) prints %q, want %q", tt.in, u.String(), tt.print)
		}
	}
}

// FuzzUPIDAgreesWithTheClient: the simulator's decoder and the client's
// (pve/wire), written apart from each other, accept the same strings (but
// for the final newline Perl's $ lets through, which the client refuses)
// and read the same fields from them.
func FuzzUPIDAgreesWithTheClient(f *testing.F) {
	for _, s := range []string{
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:",
		"UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:",
		"UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:",
		"UPID:node-a:0000377e:119E15146:5F3C0469:vzshutdown:100:a@pve!tok:",
		"UPID:x:00000000:00000000:00000000:t::u:\n",
		"UPID:x-:00000000:00000000:00000000:t::u:",
		"UPID:x:00000000:00000000:00000000:t:\v:u:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mine, ok := parseUPID(s)
		theirs, err := wire.ParseUPID(s)
		if strings.HasSuffix(s, "\n") && err != nil {
			theirs, err = wire.ParseUPID(strings.TrimSuffix(s, "\n"))
		}
		if ok != (err == nil) {
			t.Fatalf("%q: simulator ok=%v, client error %v", s, ok, err)
		}
		if !ok {
			return
		}
		got := upid{node: theirs.Node, pid: uint64(theirs.PID), pstart: theirs.PStart, starttime: theirs.StartTime.Unix(),
			typ: theirs.Type, id: theirs.ID, user: theirs.User}
		if got != mine || theirs.String() != mine.String() {
			t.Fatalf("%q: simulator %+v (%s), client %+v (%s)", s, mine, mine, theirs, theirs)
		}
	})
}

// lowerHex spells s's hex fields in lower case.
func lowerHex(t *testing.T, s string) string {
	t.Helper()
	f := strings.Split(s, ":")
	if len(f) != 9 {
		t.Fatalf("UPID %q", s)
	}
	for _, i := range []int{2, 3, 4} {
		if _, err := strconv.ParseUint(f[i], 16, 64); err != nil {
			t.Fatalf("UPID %q field %d", s, i)
		}
		f[i] = strings.ToLower(f[i])
	}
	return strings.Join(f, ":")
}
