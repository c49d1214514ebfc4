package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzPendingListAsEntries holds PendingList's own reader to
// []PendingEntry on any input: the same entries, or the same error.
// TestPendingListAsEntries' cases are its seeds.
func FuzzPendingListAsEntries(f *testing.F) {
	for _, s := range []string{
		pendingBody, `[]`, `null`,
		` [ {"key" : "memory" , "value" : 512 , "pending" : "1024" , "delete" : 1 } ] `,
		`[{"key":"onboot","value":true,"pending":false},{"key":"swap","pending":-0.5e1,"delete":"2"}]`,
		`[{"key":"desc","value":"a \"b\"\n\u00e9 \\"}]`,
		`[{"key":"x","value":1,"value":null}]`, `[{"k\u0065y":"x"}]`, `[{"key":"x","delete":1.5}]`,
		`[{"key":"x","delete":9223372036854775808}]`, `[{"key":"x","delete":"-0"}]`, `[{"key":"x","value":1e400}]`,
	} {
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
	type row struct {
		S string         `json:"s"`
		I int            `json:"i"`
		U uint64         `json:"u"`
		F float64        `json:"f"`
		B bool           `json:"b"`
		T time.Time      `json:"t"`
		P *string        `json:"p"`
		M map[string]any `json:"m"`
	}
	for _, s := range []string{
		`{"s":"x","i":1,"u":2,"f":1.5,"b":true,"t":1700000000,"p":"v"}`,
		` { "s" : 12 , "i" : "7" , "u" : "9" , "f" : "0.25" , "b" : "1" , "t" : "1700000000" , "p" : 3 } `,
		`{"s":null,"i":null,"b":"","i2":"ignored","m":{"a":1}}`, `{"\u0073":"escaped key"}`,
		`{"s":"one","s":"two"}`, `{"b":"maybe","s":"set","u":-1}`, `{"other":[1,{"x":2}],"s":"x"}`,
	} {
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
