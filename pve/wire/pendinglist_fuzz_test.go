package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzPendingListAsEntries holds PendingList's own reader to
// []PendingEntry on any input: the same entries, or the same error.
// pendingListCases are its seeds.
func FuzzPendingListAsEntries(f *testing.F) {
	for _, s := range append(pendingListCases,
		`[{"key":"x","delete":9223372036854775808}]`, `[{"key":"x","delete":"-0"}]`, `[{"key":"x","value":1e400}]`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want []PendingEntry
		var got PendingList
		werr := json.Unmarshal(b, &want)
		gerr := json.Unmarshal(b, &got)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("%q: error %v, []PendingEntry's %v", b, gerr, werr)
		}
		if d := cmp.Diff(want, []PendingEntry(got)); werr == nil && d != "" {
			t.Fatalf("%q (-[]PendingEntry +PendingList):\n%s", b, d)
		}
	})
}

// FuzzDecodeFlatAsMap holds decodeLenient's flat-object reader to its map
// on any input, as TestDecodeFlatAsMap does on its cases.
func FuzzDecodeFlatAsMap(f *testing.F) {
	for _, s := range flatCases {
		f.Add([]byte(s))
	}
	fields := lenientFields(reflect.TypeFor[row]())
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // the client decodes only what encoding/json has checked
		}
		var fast, slow row
		fast.U, slow.U = 42, 42
		ferr := decodeLenient(b, &fast)
		serr := decodeLenientMap(b, reflect.ValueOf(&slow).Elem(), fields)
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Fatalf("%q: error %v, the map's %v", b, ferr, serr)
		}
		if d := cmp.Diff(slow, fast); d != "" {
			t.Fatalf("%q (-map +flat):\n%s", b, d)
		}
	})
}
