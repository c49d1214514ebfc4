package format_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

func TestParseDeleteList(t *testing.T) {
	tests := []struct {
		in   string
		want []format.DeleteItem
	}{
		{"", nil},
		{"  ", nil},
		{"mp0", []format.DeleteItem{{Key: "mp0"}}},
		{"a1,b2;c3 !d4", []format.DeleteItem{{Key: "a1"}, {Key: "b2"}, {Key: "c3"}, {Key: "d4", Force: true}}},
		{" net1,, ;\tfeatures\n", []format.DeleteItem{{Key: "net1"}, {Key: "features"}}},
		{"!mp0,mp0", []format.DeleteItem{{Key: "mp0", Force: true}, {Key: "mp0"}}},
		{"mp0\x00net0", []format.DeleteItem{{Key: "mp0"}, {Key: "net0"}}},
		{"host-managed,Cores", []format.DeleteItem{{Key: "host-managed"}, {Key: "Cores"}}},
		{"mp0\vnet0", []format.DeleteItem{{Key: "mp0"}, {Key: "net0"}}},
	}
	for _, tt := range tests {
		got, err := format.ParseDeleteList(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDeleteList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDeleteListBad(t *testing.T) {
	tests := []struct{ in, value string }{
		{"mp0,1net", "1net"},
		{"a", "a"}, // a config id has at least two characters
		{"mp0,!!net0", "!!net0"},
		{"rootfs,mp.0", "mp.0"},
		{"!", "!"},
	}
	for _, tt := range tests {
		_, err := format.ParseDeleteList(tt.in)
		var fe *format.Error
		if !errors.As(err, &fe) {
			t.Errorf("ParseDeleteList(%q): err = %v, want *format.Error", tt.in, err)
			continue
		}
		want := "invalid configuration ID '" + tt.value + "'"
		if fe.Value != tt.value || fe.Msg != want {
			t.Errorf("ParseDeleteList(%q): got value %q msg %q, want %q, %q", tt.in, fe.Value, fe.Msg, tt.value, want)
		}
		if got := fe.PVEMessage("delete"); got != "invalid format - "+want+"\n" {
			t.Errorf("ParseDeleteList(%q): PVEMessage = %q", tt.in, got)
		}
	}
}

func TestFormatDeleteList(t *testing.T) {
	tests := []struct {
		in   []format.DeleteItem
		want string
	}{
		{nil, ""},
		{[]format.DeleteItem{{Key: "net1"}, {Key: "mp0", Force: true}, {Key: "features"}}, "features,!mp0,net1"},
		{[]format.DeleteItem{{Key: "mp0"}, {Key: "mp0", Force: true}}, "!mp0"},
		{[]format.DeleteItem{{Key: "b"}, {Key: "a"}, {Key: "b"}}, "a,b"},
	}
	for _, tt := range tests {
		if got := format.FormatDeleteList(tt.in); got != tt.want {
			t.Errorf("FormatDeleteList(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A printed list reads back.
	items, err := format.ParseDeleteList(format.FormatDeleteList([]format.DeleteItem{{Key: "swap"}, {Key: "mp1", Force: true}}))
	if want := []format.DeleteItem{{Key: "mp1", Force: true}, {Key: "swap"}}; err != nil || !reflect.DeepEqual(items, want) {
		t.Errorf("round trip = %v, %v; want %v", items, err, want)
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in         string
		list, word []string
	}{
		{"", nil, nil},
		{" \t ", nil, nil},
		{"a,b;c d", []string{"a", "b", "c", "d"}, []string{"a", "b", "c", "d"}},
		{"  a,,b  ", []string{"a", "b"}, []string{"a", "b"}},
		{"mp0, unused1", []string{"mp0", "unused1"}, []string{"mp0", "unused1"}},
		// Perl's \s matches \v; Go's does not.
		{"mp0\vnet0", []string{"mp0", "net0"}, []string{"mp0", "net0"}},
		// split_list splits at NUL bytes only when there are any;
		// parse_pending_delete never does.
		{"a\x00b c\x00\x00", []string{"a", "b c"}, []string{"a\x00b", "c\x00\x00"}},
	}
	for _, tt := range tests {
		if got := format.SplitList(tt.in); !reflect.DeepEqual(got, tt.list) {
			t.Errorf("SplitList(%q) = %q, want %q", tt.in, got, tt.list)
		}
		if got := format.SplitWords(tt.in); !reflect.DeepEqual(got, tt.word) {
			t.Errorf("SplitWords(%q) = %q, want %q", tt.in, got, tt.word)
		}
	}
}

func TestIsConfigID(t *testing.T) {
	for s, want := range map[string]bool{
		"mp0": true, "Cores": true, "host-managed": true, "snap_1": true, "ab": true,
		"": false, "a": false, "1net": false, "_x": false, "mp.0": false, "!mp0": false, "a b": false,
	} {
		if got := format.IsConfigID(s); got != want {
			t.Errorf("IsConfigID(%q) = %v, want %v", s, got, want)
		}
	}
}
