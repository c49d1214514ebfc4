package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// row is a struct of every field kind decodeLenient fills, for its tests.
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

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		in      string
		want    row
		wantErr bool
	}{
		{in: `{"s":"x","i":1,"u":2,"f":1.5,"b":true,"t":1700000000,"p":"v"}`,
			want: row{S: "x", I: 1, U: 2, F: 1.5, B: true, T: time.Unix(1700000000, 0).UTC(), P: ptr("v")}},
		{in: `{"s":12,"i":"7","u":"9","f":"0.25","b":"1","t":"1700000000","p":3}`,
			want: row{S: "12", I: 7, U: 9, F: 0.25, B: true, T: time.Unix(1700000000, 0).UTC(), P: ptr("3")}},
		{in: `{"s":true,"i":3.0,"b":0,"t":0}`, want: row{S: "1", I: 3}},
		{in: `{"s":null,"i":null,"b":"","i2":"ignored","m":{"a":1}}`, want: row{M: map[string]any{"a": float64(1)}}},
		{in: `{"i":""}`, want: row{}},
		{in: `{"i":1.5}`, wantErr: true},
		{in: `{"i":{"a":1}}`, wantErr: true},
		{in: `{"s":[1]}`, wantErr: true},
		{in: `{"b":"maybe"}`, wantErr: true},
		{in: `{"u":-1}`, wantErr: true},
		{in: `{"f":[1]}`, wantErr: true},
		{in: `{"f":"fast"}`, wantErr: true},
		{in: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		var got row
		err := decodeLenient([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); !tt.wantErr && d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestConfigValuesRejectsObjects(t *testing.T) {
	var c ConfigValues
	if err := json.Unmarshal([]byte(`{"memory":{"x":1}}`), &c); err == nil {
		t.Error("object value accepted")
	}
	if err := json.Unmarshal([]byte(`{"lxc":[["only-key"]]}`), &c); err == nil {
		t.Error("bad lxc pair accepted")
	}
}

// TestConfigValuesLXCPairs: the raw lxc.* pairs are spread out after the
// ordinary keys, joined in array order when a key repeats, and a pair whose key
// is not an lxc.* key (PVE never sends one) or an ordinary key named lxc.*
// is refused with the key named, so no input depends on map order.
func TestConfigValuesLXCPairs(t *testing.T) {
	tests := []struct {
		in      string
		want    ConfigValues
		wantErr string
	}{
		{in: `{"memory":512,"lxc":[["lxc.apparmor.profile","unconfined"]]}`,
			want: ConfigValues{"memory": "512", "lxc.apparmor.profile": "unconfined"}},
		{in: `{"lxc":[["lxc.cgroup2.devices.allow","c 10:200 rwm"],["lxc.mount.entry","a"],["lxc.cgroup2.devices.allow","c 1:1 r"]]}`,
			want: ConfigValues{"lxc.cgroup2.devices.allow": "c 10:200 rwm\nc 1:1 r", "lxc.mount.entry": "a"}},
		{in: `{"lxc":null,"cores":2}`, want: ConfigValues{"cores": "2"}},
		{in: `{"lxc":[]}`, want: ConfigValues{}},
		// The fuzzer's find: a pair key equal to an ordinary key.
		{in: `{"":7,"lxc":[["",""]],"1":""}`, wantErr: `config key lxc: pair key "": not an lxc.* key`},
		{in: `{"memory":512,"lxc":[["memory","1024"]]}`, wantErr: `config key lxc: pair key "memory": not an lxc.* key`},
		{in: `{"lxc.x":"a","lxc":[["lxc.x","b"]]}`, wantErr: `config key "lxc.x": lxc.* keys come only as pairs under "lxc"`},
		{in: `{"lxc":[["lxc.a"]]}`, wantErr: `config key lxc: want [key, value] pairs`},
		{in: `{"lxc":"lxc.a=b"}`, wantErr: `config key lxc:`},
	}
	for _, tt := range tests {
		for range 20 { // the bug depended on map order: repeat
			var got ConfigValues
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s: err %v, want %q", tt.in, err, tt.wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("%s (-want +got):\n%s", tt.in, d)
			}
		}
	}
}

func TestPendingGet(t *testing.T) {
	p := PendingConfig{Entries: []PendingEntry{{Key: "cores"}, {Key: "memory", Pending: ptr("1024")}}}
	if e, ok := p.Get("memory"); !ok || *e.Pending != "1024" {
		t.Errorf("%+v %v", e, ok)
	}
	if _, ok := p.Get("swap"); ok {
		t.Error("found swap")
	}
}

func TestPermissionsHelpers(t *testing.T) {
	p := Permissions{"/vms/100": {"VM.Audit": true, "VM.Backup": false}, "/": {"Sys.Audit": false}}
	if !p.Has("/vms/100", "VM.Backup") || p.Has("/vms/100", "VM.Allocate") || p.Has("/vms/101", "VM.Audit") {
		t.Error("Has")
	}
	if d := cmp.Diff([]string{"/", "/vms/100"}, p.Paths()); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]string{"VM.Audit", "VM.Backup"}, p["/vms/100"].Privileges()); d != "" {
		t.Error(d)
	}
	if !(Storage{Content: "rootdir, images,backup"}).HasContent("backup") || (Storage{Content: "rootdir"}).HasContent("backup") {
		t.Error("HasContent")
	}
}

// FuzzDecodeWireTypes: no body, however malformed, makes a wire type panic,
// and what decodes once decodes the same way twice.
func FuzzDecodeWireTypes(f *testing.F) {
	for _, s := range []string{
		`{"vmid":"100","status":"running","template":"","maxmem":1.0}`,
		`{"name":"current","running":1,"snaptime":"0"}`,
		`{"memory":512,"lxc":[["lxc.a","b"]],"digest":"d"}`,
		`{"/vms/100":{"VM.Audit":1}}`,
		`{"key":"memory","value":512,"pending":"1024","delete":1}`,
		`{"upid":"UPID:x:00000000:00000000:00000000:t::u:","pid":-1}`,
		`{"ctime":1e3,"protected":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		targets := func() []any {
			return []any{&Version{}, &Node{}, &Resource{}, &ContainerListEntry{}, &ConfigValues{}, &PendingEntry{},
				&ContainerStatus{}, &Snapshot{}, &Storage{}, &Volume{}, &PruneEntry{}, &TaskStatus{}, &TaskLogLine{}, &Permissions{}}
		}
		first, second := targets(), targets()
		for i := range first {
			err1 := json.Unmarshal(b, first[i])
			err2 := json.Unmarshal(b, second[i])
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%T: decoding twice gave %v and %v", first[i], err1, err2)
			}
			if err1 == nil {
				if d := cmp.Diff(first[i], second[i]); d != "" {
					t.Fatalf("%T: decoding twice differs: %s", first[i], d)
				}
			}
		}
	})
}

// pendingBody is a GET .../pending answer as PVE 9 gives it for a plain
// container: a value per key, numbers as numbers, one pending change.
const pendingBody = `[{"key":"arch","value":"amd64"},{"key":"cores","value":2},{"key":"digest","value":"4d1f0c8e2b7a9d3c5e6f7a8b9c0d1e2f3a4b5c6d"},` +
	`{"key":"hostname","value":"ct1000"},{"key":"memory","value":1024,"pending":2048},` +
	`{"key":"net0","value":"name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:03:E8,ip=dhcp,type=veth"},{"key":"ostype","value":"debian"},` +
	`{"key":"parent","value":"felhom-20261125-100000"},{"key":"rootfs","value":"local-lvm:vm-1000-disk-0,size=8G"},` +
	`{"key":"swap","value":512},{"key":"unprivileged","value":1},{"key":"description","value":"a \"quoted\" line\nand another\n"}]`

// BenchmarkDecodePending decodes one GET .../pending answer: felhom plan
// decodes one per container.
//
//	go test ./pve/wire -run '^$' -bench BenchmarkDecodePending -benchmem
func BenchmarkDecodePending(b *testing.B) {
	data := []byte(pendingBody)
	b.ReportAllocs()
	for b.Loop() {
		var entries []PendingEntry
		if err := json.Unmarshal(data, &entries); err != nil || len(entries) != 12 {
			b.Fatal(err, len(entries))
		}
	}
}

// The string fast path of ScalarText agrees with encoding/json on every
// kind of string: plain, escaped, unicode, invalid UTF-8.
func TestScalarTextStrings(t *testing.T) {
	for _, in := range []string{`""`, `"plain"`, `"a \"q\" \\ \n \u00e9 \ud83d\ude00"`, `"é日本"`, "\"bad \xff utf8\"", `"tab	in"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			// Not JSON (a raw tab): ScalarText gets only what a decoder passed.
			continue
		}
		if got := ScalarText(json.RawMessage(in)); got != want {
			t.Errorf("ScalarText(%s) = %q, want %q", in, got, want)
		}
	}
}

// PendingEntry's own decoder gives what decodeLenient gives, for PVE's
// shapes and for malformed ones; it only also takes a key in another case
// ("Key"), as encoding/json does for a struct.
func TestPendingEntryAsDecodeLenient(t *testing.T) {
	for _, in := range []string{
		`{"key":"memory","value":512,"pending":"1024","delete":1}`,
		`{"key":"cores","value":"2"}`,
		`{"key":"onboot","value":true,"pending":false}`,
		`{"key":"swap","pending":0.0,"delete":"2"}`,
		`{"key":"x","value":null,"pending":null,"delete":null}`,
		`{"key":"desc","value":"a \"b\"\n\u00e9"}`,
		`{"key":"x","value":{"a":1}}`,
		`{"key":["x"]}`,
		`{"key":"x","delete":1.5}`,
		`{"key":"x","delete":"maybe"}`,
		`{"key":"x","value":1,"value":2}`,
		`{"other":1}`,
		`{}`,
		`null`,
		`[1]`,
		`"key"`,
	} {
		var want, got PendingEntry
		werr := decodeLenient([]byte(in), &want)
		gerr := json.Unmarshal([]byte(in), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: error %v, decodeLenient's %v", in, gerr, werr)
			continue
		}
		if d := cmp.Diff(want, got); werr == nil && d != "" {
			t.Errorf("%s (-decodeLenient +UnmarshalJSON):\n%s", in, d)
		}
	}
}

// A PendingList decodes as a []PendingEntry does: the same entries, or
// the same error, for PVE's shapes (numbers, booleans, escapes, nulls,
// spaces) and for shapes its fast path leaves to encoding/json.
// pendingListCases are PVE's pending answers and malformed ones, for
// TestPendingListAsEntries and the seeds of FuzzPendingListAsEntries.
var pendingListCases = []string{
	pendingBody,
	`[]`,
	`null`,
	` [ {"key" : "memory" , "value" : 512 , "pending" : "1024" , "delete" : 1 } , {"key":"cores","value":"2"} ] `,
	`[{"key":"onboot","value":true,"pending":false},{"key":"swap","pending":-0.5e1,"delete":"2"}]`,
	`[{"key":"x","value":null,"pending":null,"delete":null}]`,
	`[{"key":"desc","value":"a \"b\"\n\u00e9 \\"},{"key":"y","value":"é日本"}]`,
	"[{\"key\":\"bad\",\"value\":\"\xff\"}]",
	`[{"key":"x","value":{"a":1}}]`,
	`[{"key":["x"]}]`,
	`[{"key":"x","delete":1.5}]`,
	`[{"key":"x","delete":"maybe"}]`,
	`[{"key":"x","value":1,"value":2}]`,
	`[{"key":"x","value":1,"value":null}]`,
	`[{"Key":"x","VALUE":1}]`,
	`[{"k\u0065y":"x"}]`,
	`[{"other":1,"key":"x"}]`,
	`[{}]`,
	`[null]`,
	`[1]`,
	`{"key":"x"}`,
	`"key"`,
}

func TestPendingListAsEntries(t *testing.T) {
	for _, in := range pendingListCases {
		var want []PendingEntry
		var got PendingList
		werr := json.Unmarshal([]byte(in), &want)
		gerr := json.Unmarshal([]byte(in), &got)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Errorf("%s: error %v, []PendingEntry's %v", in, gerr, werr)
			continue
		}
		if d := cmp.Diff(want, []PendingEntry(got)); werr == nil && d != "" {
			t.Errorf("%s (-[]PendingEntry +PendingList):\n%s", in, d)
		}
	}
}

// BenchmarkDecodePendingList decodes the same answer as a PendingList, as
// the client does.
func BenchmarkDecodePendingList(b *testing.B) {
	data := []byte(pendingBody)
	b.ReportAllocs()
	for b.Loop() {
		var entries PendingList
		if err := json.Unmarshal(data, &entries); err != nil || len(entries) != 12 {
			b.Fatal(err, len(entries))
		}
	}
}

// decodeLenient's flat-object reader gives what its map gives: the same
// fields set, or the same error, with the same fields set before it.
// flatCases are flat objects and other JSON for decodeLenient, for
// TestDecodeFlatAsMap and the seeds of FuzzDecodeFlatAsMap.
var flatCases = []string{
	`{"s":"x","i":1,"u":2,"f":1.5,"b":true,"t":1700000000,"p":"v"}`,
	` { "s" : 12 , "i" : "7" , "u" : "9" , "f" : "0.25" , "b" : "1" , "t" : "1700000000" , "p" : 3 } `,
	`{"s":true,"i":3.0,"b":0,"t":0}`,
	`{"s":null,"i":null,"b":"","i2":"ignored","m":{"a":1}}`,
	`{"s":"a \"b\" \u00e9","p":"\\"}`,
	"{\"s\":\"\xff\"}",
	`{"i":""}`, `{}`, `null`, `[1]`, `"s"`,
	`{"S":"case","i":1}`,
	`{"\u0073":"escaped key"}`,
	`{"s":"one","s":"two"}`,
	`{"i":1,"i":null}`,
	`{"s":"set","i":1.5,"b":true}`,
	`{"b":"maybe","s":"set","u":-1}`,
	`{"i":{"a":1}}`,
	`{"f":[1],"s":"x"}`,
	`{"other":[1,{"x":2}],"s":"x"}`,
}

func TestDecodeFlatAsMap(t *testing.T) {
	for _, in := range flatCases {
		var fast, slow row
		fast.U, slow.U = 42, 42 // a field the object leaves keeps its value
		ferr := decodeLenient([]byte(in), &fast)
		serr := decodeLenientMap([]byte(in), reflect.ValueOf(&slow).Elem(), lenientFields(reflect.TypeFor[row]()))
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Errorf("%s: error %v, the map's %v", in, ferr, serr)
		}
		if d := cmp.Diff(slow, fast); d != "" {
			t.Errorf("%s (-map +flat):\n%s", in, d)
		}
	}
}

// BenchmarkDecodeResources decodes a GET /cluster/resources answer of
// 1,000 containers: felhom plan reads one.
func BenchmarkDecodeResources(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":"lxc/%d","type":"lxc","node":"pve%d","vmid":%d,"name":"ct%d","status":"running","template":0,"cpu":0.0123,"maxcpu":2,"mem":123456789,"maxmem":1073741824,"disk":987654321,"maxdisk":8589934592,"uptime":12345,"netin":1234,"netout":5678,"diskread":0,"diskwrite":0}`, 1000+i, i%3+1, 1000+i, 1000+i)
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		var rs []Resource
		if err := json.Unmarshal(data, &rs); err != nil || len(rs) != 1000 {
			b.Fatal(err, len(rs))
		}
	}
}
