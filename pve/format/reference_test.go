package format_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/format"
)

// propertyKeyRE matches the config keys whose values are property strings
// this package types.
var propertyKeyRE = regexp.MustCompile(`^(rootfs|mp\d+|net\d+|features|startup|dev\d+)$`)

// refValue is one property-string value found in the reference data.
type refValue struct {
	where string // file and line or JSON key, for messages
	key   string
	value string
}

// confValues returns the property-string values of a PVE container config
// file, from the main section, [pve:pending] and every snapshot section.
func confValues(t *testing.T, name string, data []byte) []refValue {
	t.Helper()
	var out []refValue
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "[") {
			continue
		}
		key, value, ok := strings.Cut(text, ": ")
		if !ok {
			t.Fatalf("%s:%d: not a 'key: value' line: %q", name, line, text)
		}
		if propertyKeyRE.MatchString(key) {
			out = append(out, refValue{where: name + ":" + itoa(line), key: key, value: value})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// responseValues returns the property-string values of a GET .../config
// response body ({"data": {...}}); other bodies give none.
func responseValues(t *testing.T, name string, data []byte) []refValue {
	t.Helper()
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil // the data-only excerpts are arrays
	}
	var cfg map[string]any
	if err := json.Unmarshal(body.Data, &cfg); err != nil {
		return nil
	}
	var out []refValue
	for k, v := range cfg {
		s, ok := v.(string)
		if ok && propertyKeyRE.MatchString(k) {
			out = append(out, refValue{where: name + " " + k, key: k, value: s})
		}
	}
	return out
}

// parsed is what every property-string type offers, for table tests.
type parsed interface{ String() string }

func parseByKey(key, value string) (parsed, error) {
	switch {
	case key == "rootfs":
		return format.ParseRootFS(value)
	case strings.HasPrefix(key, "mp"):
		return format.ParseMountPoint(value)
	case strings.HasPrefix(key, "net"):
		return format.ParseNet(value)
	case key == "features":
		return format.ParseFeatures(value)
	case key == "startup":
		return format.ParseStartup(value)
	case strings.HasPrefix(key, "dev"):
		return format.ParseDev(value)
	}
	panic("no parser for " + key)
}

// equalByKey parses both values with the key's parser and compares them
// with the type's Equal.
func equalByKey(t *testing.T, key, a, b string) bool {
	t.Helper()
	pa, err := parseByKey(key, a)
	if err != nil {
		t.Fatalf("%s %q: %v", key, a, err)
	}
	pb, err := parseByKey(key, b)
	if err != nil {
		t.Fatalf("%s %q: %v", key, b, err)
	}
	switch x := pa.(type) {
	case format.RootFS:
		return x.Equal(pb.(format.RootFS))
	case format.MountPoint:
		return x.Equal(pb.(format.MountPoint))
	case format.Net:
		return x.Equal(pb.(format.Net))
	case format.Features:
		return x.Equal(pb.(format.Features))
	case format.Startup:
		return x.Equal(pb.(format.Startup))
	case format.Dev:
		return x.Equal(pb.(format.Dev))
	}
	panic("unknown type")
}

// handWritten maps values of the lxc-conf fixtures that PVE did not print
// (pve-container's snapshot tests write them by hand and copy them as they
// are) to PVE's print of them: print_property_string puts the required key
// name right after the default key, as the real API responses show
// ("name=eth0,bridge=vmbr10,..." in lxc-config-get.pve7.json).
var handWritten = map[string]string{
	"bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,name=eth0,type=veth": "name=eth0,bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,type=veth",
}

// TestReferenceValuesRoundTrip parses every rootfs, mpN, netN, features,
// startup and devN value of the real config files and API responses and
// checks that it prints back exactly as PVE wrote it.
func TestReferenceValuesRoundTrip(t *testing.T) {
	var values []refValue
	for _, p := range testref.Glob(t, "pve-api/lxc-conf/*.conf") {
		values = append(values, confValues(t, filepath.Base(p), testref.Read(t, "pve-api/lxc-conf/"+filepath.Base(p)))...)
	}
	fromResponses := 0
	for _, p := range testref.Glob(t, "pve-api/responses/*.json") {
		v := responseValues(t, filepath.Base(p), testref.Read(t, "pve-api/responses/"+filepath.Base(p)))
		fromResponses += len(v)
		values = append(values, v...)
	}
	if fromResponses == 0 || len(values) == fromResponses {
		t.Fatalf("found %d values in responses and %d in config files; want both", fromResponses, len(values)-fromResponses)
	}
	kinds := map[string]int{}
	for _, v := range values {
		kinds[strings.TrimRight(v.key, "0123456789")]++
		p, err := parseByKey(v.key, v.value)
		if err != nil {
			t.Errorf("%s: %s: %q: %v", v.where, v.key, v.value, err)
			continue
		}
		want := v.value
		if c, ok := handWritten[v.value]; ok {
			if strings.Contains(v.where, ".json ") {
				t.Errorf("%s: a real response is listed as hand-written", v.where)
			}
			want = c
		}
		if got := p.String(); got != want {
			t.Errorf("%s: %s: printed %q, want PVE's %q", v.where, v.key, got, want)
		}
		if !equalByKey(t, v.key, v.value, p.String()) {
			t.Errorf("%s: %s: %q is not Equal to its own print", v.where, v.key, v.value)
		}
	}
	for _, k := range []string{"rootfs", "mp", "net", "features"} {
		if kinds[k] == 0 {
			t.Errorf("no %s value in the reference data; the test would prove nothing for it", k)
		}
	}
	t.Logf("checked %d values: %v", len(values), kinds)
}
