package adopt

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/felhom/felhom/spec"
)

// TestGeneratedConfigsRoundTrip: for configs generated over every key the
// spec knows (as PVE writes them), the imported document loads and plans
// no change against the config it came from.
func TestGeneratedConfigsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	n := 600
	if testing.Short() {
		n = 100
	}
	for i := range n {
		cfg := genConfig(r, 100+i)
		l := Live{Node: "pve1", VMID: 100 + i, Config: cfg}
		doc, err := Document(l)
		if err != nil {
			t.Fatalf("config %d %v: %v", i, cfg, err)
		}
		roundTrip(t, l, doc)
		checkComplete(t, cfg, doc)
		if t.Failed() {
			t.Fatalf("config %d: %v", i, cfg)
		}
	}
	t.Logf("%d generated configs imported and planned clean", n)
}

func genConfig(r *rand.Rand, vmid int) map[string]string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	maybe := func() bool { return r.IntN(2) == 0 }
	bit := func() string { return pick("0", "1") }
	cfg := map[string]string{"hostname": pick("web", "db", "media", "ci-runner", "dns1") + fmt.Sprint(vmid)}
	if maybe() {
		cfg["memory"] = fmt.Sprint(pick("256", "512", "1024", "1536", "2048", "3000", "65536"))
	}
	if maybe() {
		cfg["swap"] = pick("0", "256", "512", "2048")
	}
	if maybe() {
		cfg["cores"] = fmt.Sprint(1 + r.IntN(16))
	}
	if maybe() {
		cfg["cpulimit"] = pick("0", "1", "1.5", "2.25", "8")
	}
	if maybe() {
		cfg["cpuunits"] = fmt.Sprint(pick("100", "1024", "5000"))
	}
	for _, k := range []string{"onboot", "protection"} {
		if maybe() {
			cfg[k] = bit()
		}
	}
	if maybe() {
		cfg["startup"] = pick("order=1", "order=2,up=30", "up=10,down=20", "order=5,up=1,down=2")
	}
	if maybe() {
		cfg["tags"] = pick("prod", "prod;web", "a;b;c", "db")
	}
	if maybe() {
		cfg["description"] = pick("web server", "line one\nline two\n", "on", "# not a comment", "a: b")
	}
	if maybe() {
		cfg["nameserver"] = pick("1.1.1.1", "1.1.1.1 9.9.9.9", "2606:4700::1111")
	}
	if maybe() {
		cfg["searchdomain"] = pick("lan", "home.arpa", "example.net lan")
	}
	if maybe() {
		var parts []string
		for _, k := range []string{"nesting", "keyctl", "fuse", "mknod", "force_rw_sys"} {
			if maybe() {
				parts = append(parts, k+"="+bit())
			}
		}
		if maybe() {
			parts = append(parts, "mount="+pick("nfs", "nfs;cifs"))
		}
		if len(parts) > 0 {
			cfg["features"] = strings.Join(parts, ",")
		}
	}
	for slot := range r.IntN(4) {
		parts := []string{"name=eth" + fmt.Sprint(slot), "bridge=" + pick("vmbr0", "vmbr1")}
		if maybe() {
			parts = append(parts, "firewall="+bit())
		}
		if maybe() {
			parts = append(parts, "gw=192.168.1.1")
		}
		parts = append(parts, fmt.Sprintf("hwaddr=BC:24:11:%02X:%02X:%02X", r.IntN(256), r.IntN(256), slot))
		parts = append(parts, "ip="+pick("dhcp", "manual", fmt.Sprintf("192.168.1.%d/24", 2+r.IntN(250))))
		if maybe() {
			parts = append(parts, "ip6="+pick("auto", "dhcp", "fd00::5/64"))
		}
		if maybe() {
			parts = append(parts, "link_down="+bit())
		}
		if maybe() {
			parts = append(parts, "mtu="+pick("1500", "9000"))
		}
		if maybe() {
			parts = append(parts, "rate="+pick("10", "12.5"))
		}
		if maybe() {
			parts = append(parts, "tag="+fmt.Sprint(1+r.IntN(4094)))
		}
		if maybe() {
			parts = append(parts, "trunks="+pick("10", "10;20;30"))
		}
		parts = append(parts, "type=veth")
		cfg[fmt.Sprintf("net%d", slot)] = strings.Join(parts, ",")
	}
	cfg["rootfs"] = fmt.Sprintf("%s:vm-%d-disk-0", pick("local-lvm", "tank"), vmid) + volOpts(r, pick, maybe, bit, false)
	for slot := range r.IntN(4) {
		mp := fmt.Sprintf(",mp=/mnt/m%d", slot)
		switch r.IntN(3) {
		case 0:
			cfg[fmt.Sprintf("mp%d", slot)] = fmt.Sprintf("local-lvm:vm-%d-disk-%d", vmid, slot+1) + mp + volOpts(r, pick, maybe, bit, true)
		case 1:
			cfg[fmt.Sprintf("mp%d", slot)] = "/tank/share" + fmt.Sprint(slot) + mp + pick("", ",ro=1", ",backup=0", ",shared=1")
		default:
			cfg[fmt.Sprintf("mp%d", slot)] = "/dev/sdb" + fmt.Sprint(slot+1) + mp + pick("", ",ro=1")
		}
	}
	if maybe() {
		cfg["dev0"] = pick("/dev/ttyUSB0", "/dev/dri/renderD128,gid=44", "/dev/net/tun,mode=0666,uid=0,deny-write=1")
	}
	if maybe() {
		cfg["hookscript"] = "local:snippets/hook.sh"
	}
	for k, v := range map[string]string{"arch": "amd64", "ostype": pick("debian", "alpine"), "unprivileged": bit()} {
		cfg[k] = v
	}
	return cfg
}

func volOpts(r *rand.Rand, pick func(...string) string, maybe func() bool, bit func() string, mp bool) string {
	var s string
	if maybe() {
		s += ",acl=" + bit()
	}
	if mp && maybe() {
		s += ",backup=" + bit()
	}
	if maybe() {
		s += ",mountoptions=" + pick("noatime", "noatime;nodev")
	}
	if maybe() {
		s += ",quota=" + bit()
	}
	if maybe() {
		s += ",replicate=" + bit()
	}
	if maybe() {
		s += ",ro=" + bit()
	}
	s += ",size=" + pick("8G", "512M", "32G", "1T")
	return s
}

// checkComplete: an omitted value is never a change (the spec does not
// manage it), so the round trip alone cannot see one dropped. Every part of
// every property string generated must be in the document: as many fields
// set as the string has parts (type=veth, which PVE always writes, aside).
func checkComplete(t *testing.T, cfg map[string]string, doc *Result) {
	t.Helper()
	set, diags := spec.Load(fstest.MapFS{"a.yaml": &fstest.MapFile{Data: doc.YAML}}, ".")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s := set.Containers[0].Spec
	parts := func(k string) int {
		n := 0
		for _, p := range strings.Split(cfg[k], ",") {
			if p != "type=veth" {
				n++
			}
		}
		return n
	}
	for k := range cfg {
		var got any
		switch {
		case strings.HasPrefix(k, "net"):
			got = s.Net[k]
		case strings.HasPrefix(k, "mp"):
			got = s.MountPoints[k]
		case strings.HasPrefix(k, "dev"):
			got = s.Devices[k]
		case k == "rootfs":
			got = *s.RootFS
		case k == "features":
			got = *s.Features
		case k == "startup":
			got = *s.Startup
		default:
			continue
		}
		if n := setFields(got); n != parts(k) {
			t.Errorf("%s: %d fields set for %d parts of %q:\n%s", k, n, parts(k), cfg[k], doc.YAML)
		}
	}
	if !reflect.DeepEqual(doc.Unmanaged, []string{"arch", "ostype", "unprivileged"}) {
		t.Errorf("unmanaged %v", doc.Unmanaged)
	}
}

// setFields counts the fields of struct v that are set: non-nil, non-empty.
func setFields(v any) int {
	rv := reflect.ValueOf(v)
	n := 0
	for i := range rv.NumField() {
		if !rv.Field(i).IsZero() {
			n++
		}
	}
	return n
}
