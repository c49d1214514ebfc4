package format_test

import (
	"errors"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

// Every bad key of one value is reported at once, the first in key order
// as the error and the others in More in key order, whatever order they
// are written in (check_object checks them all).
func TestBadKeysInKeyOrder(t *testing.T) {
	for _, v := range []string{
		"name=eth0,tag=x,mtu=y,rate=z,bridge=vmbr0",
		"rate=z,mtu=y,bridge=vmbr0,tag=x,name=eth0",
	} {
		_, err := format.ParseNet(v)
		var fe *format.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%s: %v, want a *format.Error", v, err)
		}
		keys := []string{fe.Key}
		for _, m := range fe.More {
			keys = append(keys, m.Key)
		}
		if got, want := keys, []string{"mtu", "rate", "tag"}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("%s: bad keys %v, want %v (%v)", v, got, want, err)
		}
		if fe.More[len(fe.More)-1].More != nil {
			t.Errorf("%s: a key in More has More of its own", v)
		}
	}
	// One bad key: no More.
	_, err := format.ParseNet("name=eth0,mtu=y")
	var fe *format.Error
	if !errors.As(err, &fe) || fe.Key != "mtu" || fe.More != nil {
		t.Errorf("one bad key: %#v", err)
	}
}
