package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseUPID(t *testing.T) {
	tests := []struct {
		in    string
		want  UPID
		print string // "" = in
	}{{
		in:   "UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:",
		want: UPID{Node: "pve2", PID: 4101772, PStart: 24011796, StartTime: time.Unix(1672314228, 0).UTC(), Type: "vzclone", ID: "999", User: "root@pam"},
	}, {
		in:   "UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:",
		want: UPID{Node: "proxmox2", PID: 883362, PStart: 148218236, StartTime: time.Unix(1675584165, 0).UTC(), Type: "vzclone", ID: "200", User: "root@pam!api_token"},
	}, {
		// vzdump of several guests: empty id.
		in:   "UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:",
		want: UPID{Node: "pve1", PID: 2146406, PStart: 70119940, StartTime: time.Unix(1774350000, 0).UTC(), Type: "vzdump", User: "root@pam"},
	}, {
		// pstart after 497 days of uptime: 9 hex digits.
		in:   "UPID:node-a:0000377E:119E15146:5F3C0469:vzshutdown:100:root@pam:",
		want: UPID{Node: "node-a", PID: 0x377E, PStart: 0x119E15146, StartTime: time.Unix(0x5F3C0469, 0).UTC(), Type: "vzshutdown", ID: "100", User: "root@pam"},
	}, {
		// The decoder accepts lower-case hex; the encoder prints upper case.
		in:    "UPID:host01:0000377e:19e15146:5f3c0469:vzshutdown:100:root@pam:",
		want:  UPID{Node: "host01", PID: 0x377E, PStart: 0x19E15146, StartTime: time.Unix(0x5F3C0469, 0).UTC(), Type: "vzshutdown", ID: "100", User: "root@pam"},
		print: "UPID:host01:0000377E:19E15146:5F3C0469:vzshutdown:100:root@pam:",
	}}
	for _, tt := range tests {
		got, err := ParseUPID(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, d)
		}
		want := tt.print
		if want == "" {
			want = tt.in
		}
		if got.String() != want {
			t.Errorf("String() = %s, want %s", got, want)
		}
	}
}

func TestParseUPIDRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam",         // no trailing colon
		"UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:stopped", // junk after the last colon
		"UPID:pve2:3E968C:016E6414:63AD7D74:vzclone:999:root@pam:",          // pid not 8 digits
		"UPID:pve2:003E968C:016E6414:63AD7D7:vzclone:999:root@pam:",         // starttime 7 digits
		"UPID:pve2:003E968C:1016E64140:63AD7D74:vzclone:999:root@pam:",      // pstart 10 digits
		"UPID:-pve:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:",        // node starts with '-'
		"UPID:pve2:003E968C:016E6414:63AD7D74::999:root@pam:",               // empty type
		"UPID:pve2:003E968C:016E6414:63AD7D74:vz clone:999:root@pam:",       // space in type
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999::",                // empty user
		"upid:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:",        // prefix case
		"UPID:pve2:003E968G:016E6414:63AD7D74:vzclone:999:root@pam:",        // not hex
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:\n",      // trailing newline
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:\v:root@pam:",         // vertical tab: Perl's \s
		"UPID:pve.example:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:", // dot in node
	} {
		if u, err := ParseUPID(s); err == nil {
			t.Errorf("ParseUPID(%q) = %+v, want an error", s, u)
		}
	}
}

func TestUPIDJSON(t *testing.T) {
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:")
	b, err := json.Marshal(struct{ U, Z UPID }{U: u})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"U":"UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:","Z":""}` {
		t.Errorf("%s", b)
	}
	var back struct{ U, Z UPID }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.U != u || !back.Z.IsZero() {
		t.Errorf("%+v", back)
	}
}

// FuzzParseUPID: whatever parses prints back to a string that parses to the
// same UPID, and that string is canonical.
func FuzzParseUPID(f *testing.F) {
	for _, s := range []string{
		"UPID:pve2:003E968C:016E6414:63AD7D74:vzclone:999:root@pam:",
		"UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:",
		"UPID:node-a:0000377e:119E15146:5F3C0469:vzshutdown:100:a@pve!tok:",
		"UPID:x:00000000:00000000:00000000:t::u:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUPID(s)
		if err != nil {
			return
		}
		p := u.String()
		u2, err := ParseUPID(p)
		if err != nil {
			t.Fatalf("%q parsed, its print %q does not: %v", s, p, err)
		}
		if u2 != u || u2.String() != p {
			t.Fatalf("%q: round trip %+v != %+v", s, u2, u)
		}
	})
}
