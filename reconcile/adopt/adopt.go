package adopt

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
)

// SchemaURL is the schema the documents name in their yaml-language-server
// line: the $id of schemas/container.schema.json.
const SchemaURL = "https://felhom.dev/schemas/container.schema.json"

// Live is what Document reads: one container as PVE reports it.
type Live struct {
	Node string
	VMID int
	// Name, when set, is the document's metadata.name (a DNS label);
	// "" picks one from the hostname.
	Name string
	// Config holds the values by key as the container will have them:
	// each entry's pending value when PVE holds one (it is waiting for a
	// restart), else its current value, without the keys PVE is to delete
	// (LiveFrom).
	Config map[string]string
	// Status is the run state PVE reports ("running", "stopped"), for the
	// document's comments only: power is managed only when a spec sets it,
	// so import leaves it out. "" when unknown.
	Status string
}

// LiveFrom is the Live of a container from its GET .../pending answer: a
// pending value wins over the current one, since someone set it and PVE
// applies it at the next restart (felhom plans such a value as awaiting
// restart, not as a change), and a key with a pending delete is left out.
func LiveFrom(node string, vmid int, p pve.PendingConfig) Live {
	l := Live{Node: node, VMID: vmid, Config: map[string]string{}}
	for _, e := range p.Entries {
		switch {
		case e.Delete != 0:
		case e.Pending != nil:
			l.Config[e.Key] = *e.Pending
		case e.Value != nil:
			l.Config[e.Key] = *e.Value
		}
	}
	return l
}

// Result is one imported container.
type Result struct {
	// Name is the document's metadata.name: the hostname's first label when
	// it is a DNS label, else "ct<vmid>".
	Name string
	// YAML is the spec document, starting with the yaml-language-server line.
	YAML []byte
	// Unmanaged are the config keys the document leaves out (the spec does
	// not manage them), sorted.
	Unmanaged []string
}

var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Document converts l into a spec document. An error is a config value
// PVE would not have written (a property string that does not parse).
func Document(l Live) (*Result, error) {
	cfg := l.Config
	name := fmt.Sprintf("ct%d", l.VMID)
	host, hasHost := cfg["hostname"]
	if first, _, _ := strings.Cut(host, "."); hasHost && dnsLabel.MatchString(first) {
		name = first
	}
	if l.Name != "" {
		name = l.Name
	}
	b := &builder{used: map[string]bool{}}
	spec := b.spec(l, name)
	if b.err != nil {
		return nil, b.err
	}

	var unmanaged []string
	for k := range cfg {
		// parent and lock are PVE's bookkeeping (the current snapshot, a
		// running operation), not settings.
		if !b.used[k] && k != "parent" && k != "lock" {
			unmanaged = append(unmanaged, k)
		}
	}
	slices.Sort(unmanaged)

	head := []string{
		fmt.Sprintf("Imported by felhom import from ct %d on node %s: review it, then commit it.", l.VMID, l.Node),
		"Not in this spec, as PVE does not give them back: the root password,",
		"SSH public keys and the template the container was made from.",
	}
	if !hasHost {
		head = append(head, "PVE has no hostname set for it: this spec leaves it unset (add hostname: to set one).")
	}
	state := ""
	if l.Status != "" {
		state = " (it was " + l.Status + " when imported)"
	}
	head = append(head, "The run state is not managed"+state+": add",
		"power: running to have felhom start it whenever it is found stopped,",
		"or power: stopped to keep it shut down.")
	if len(unmanaged) > 0 {
		head = append(head, wrap("Not managed by this spec (left as they are on PVE): "+strings.Join(unmanaged, ", ")+".", 76)...)
	}
	doc := mapping(
		kv("apiVersion", str("felhom/v1alpha1")),
		kv("kind", str("Container")),
		kv("metadata", mapping(kv("name", str(name)))),
		kv("spec", spec),
	)
	var out strings.Builder
	out.WriteString("# yaml-language-server: $schema=" + SchemaURL + "\n#\n")
	for _, h := range head {
		out.WriteString("# " + h + "\n")
	}
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc.n()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return &Result{Name: name, YAML: []byte(out.String()), Unmanaged: unmanaged}, nil
}

// wrap breaks s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// builder writes the spec mapping and records the config keys it used.
type builder struct {
	used map[string]bool
	err  error
}

func (b *builder) fail(key string, err error) {
	if b.err == nil {
		b.err = fmt.Errorf("ct config %s: %w", key, err)
	}
}

func (b *builder) spec(l Live, name string) *yaml.Node {
	cfg := l.Config
	s := mapping(kv("node", str(l.Node)), kv("vmid", num(strconv.Itoa(l.VMID))))
	take := func(k string) (string, bool) {
		v, ok := cfg[k]
		if ok {
			b.used[k] = true
		}
		return v, ok
	}
	// metadata.name does not manage the hostname: only spec.hostname does.
	if v, ok := take("hostname"); ok {
		s.add("hostname", str(v))
	}
	for _, k := range []string{"memory", "swap"} {
		if v, ok := take(k); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.fail(k, err)
				continue
			}
			s.add(k, str((format.Size(n) * format.MiB).String()))
		}
	}
	for _, k := range []string{"cores", "cpulimit", "cpuunits"} {
		if v, ok := take(k); ok {
			s.add(k, num(v))
		}
	}
	for _, k := range []string{"onboot", "protection"} {
		if v, ok := take(k); ok {
			on, _ := format.ParseBool(v)
			s.add(k, boolean(on))
		}
	}
	if v, ok := take("startup"); ok {
		st, err := format.ParseStartup(v)
		if err != nil {
			b.fail("startup", err)
		}
		m := mapping()
		m.addInt("order", st.Order)
		m.addInt("up", st.Up)
		m.addInt("down", st.Down)
		s.add("startup", m.n())
	}
	if v, ok := take("tags"); ok {
		s.add("tags", seq(format.SplitList(v)))
	}
	if v, ok := take("description"); ok {
		s.add("description", str(v))
	}
	for _, k := range []string{"nameserver", "searchdomain", "hookscript"} {
		if v, ok := take(k); ok {
			s.add(k, str(v))
		}
	}
	if v, ok := take("features"); ok {
		f, err := format.ParseFeatures(v)
		if err != nil {
			b.fail("features", err)
		}
		m := mapping()
		m.addBool("nesting", f.Nesting)
		m.addBool("keyctl", f.Keyctl)
		m.addBool("fuse", f.Fuse)
		m.addBool("mknod", f.Mknod)
		m.addBool("force_rw_sys", f.ForceRWSys)
		if len(f.Mount) > 0 {
			m.add("mount", seq(f.Mount))
		}
		s.add("features", m.n())
	}
	if net := b.slots(cfg, "net", b.net); net != nil {
		s.add("net", net)
	}
	if v, ok := cfg["rootfs"]; ok {
		if r := b.rootfs(v); r != nil {
			b.used["rootfs"] = true
			s.add("rootfs", r)
		}
	}
	if mps := b.slots(cfg, "mp", b.mountpoint); mps != nil {
		s.add("mountpoints", mps)
	}
	if devs := b.slots(cfg, "dev", b.device); devs != nil {
		s.add("devices", devs)
	}
	return s.n()
}

// slots writes the prefixN keys of cfg, in slot order, with conv; nil when
// there are none.
func (b *builder) slots(cfg map[string]string, prefix string, conv func(key, v string) *yaml.Node) *yaml.Node {
	type slot struct {
		key string
		n   int
	}
	var keys []slot
	for k := range cfg {
		if p, n, ok := format.Slot(k); ok && p == prefix {
			keys = append(keys, slot{k, n})
		}
	}
	slices.SortFunc(keys, func(a, b slot) int { return a.n - b.n })
	m := mapping()
	for _, k := range keys {
		if n := conv(k.key, cfg[k.key]); n != nil {
			b.used[k.key] = true
			m.add(k.key, n)
		}
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m.n()
}

func (b *builder) net(key, v string) *yaml.Node {
	n, err := format.ParseNet(v)
	if err != nil {
		b.fail(key, err)
		return nil
	}
	if n.HostManaged != nil && *n.HostManaged {
		return nil // host-managed= is not a spec key: leave the interface alone
	}
	m := mapping()
	m.addStr("name", n.Name)
	m.addStr("bridge", n.Bridge)
	m.addStr("ip", n.IP)
	m.addStr("gw", n.GW)
	m.addStr("ip6", n.IP6)
	m.addStr("gw6", n.GW6)
	m.addStr("hwaddr", n.HWAddr)
	m.addInt("tag", n.Tag)
	if len(n.Trunks) > 0 {
		t := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, x := range n.Trunks {
			t.Content = append(t.Content, num(strconv.Itoa(x)))
		}
		m.add("trunks", t)
	}
	m.addBool("firewall", n.Firewall)
	m.addInt("mtu", n.MTU)
	if n.Rate != nil {
		m.add("rate", num(strconv.FormatFloat(*n.Rate, 'f', -1, 64)))
	}
	m.addBool("link_down", n.LinkDown)
	return m.n()
}

func (b *builder) rootfs(v string) *yaml.Node {
	r, err := format.ParseRootFS(v)
	if err != nil {
		b.fail("rootfs", err)
		return nil
	}
	if format.Classify(r.Volume) != format.Volume {
		return nil // a bind or device root: the spec names only a storage
	}
	storage, _, err := format.ParseVolumeID(r.Volume)
	if err != nil {
		b.fail("rootfs", err)
		return nil
	}
	m := mapping(kv("storage", str(storage)))
	if r.Size != nil {
		m.add("size", str(r.Size.String()))
	}
	volumeOptions(m, r.ACL, r.Quota, r.Replicate, r.RO, r.Shared, r.MountOptions)
	return m.n()
}

func (b *builder) mountpoint(key, v string) *yaml.Node {
	mp, err := format.ParseMountPoint(v)
	if err != nil {
		b.fail(key, err)
		return nil
	}
	if mp.KeepAttrs != nil {
		return nil // keepattrs= is not a spec key: leave the mount point alone
	}
	m := mapping()
	switch format.Classify(mp.Volume) {
	case format.Bind:
		m.add("bind", str(mp.Volume))
	case format.Device:
		m.add("device", str(mp.Volume))
	case format.Volume:
		m.add("volume", str(mp.Volume))
		if mp.Size != nil {
			m.add("size", str(mp.Size.String()))
		}
	default:
		return nil
	}
	m.add("mp", str(mp.MP))
	m.addBool("backup", mp.Backup)
	volumeOptions(m, mp.ACL, mp.Quota, mp.Replicate, mp.RO, mp.Shared, mp.MountOptions)
	return m.n()
}

func volumeOptions(m *mapNode, acl, quota, replicate, ro, shared *bool, opts []string) {
	m.addBool("acl", acl)
	m.addBool("quota", quota)
	m.addBool("ro", ro)
	m.addBool("replicate", replicate)
	m.addBool("shared", shared)
	if len(opts) > 0 {
		m.add("mountoptions", seq(opts))
	}
}

func (b *builder) device(key, v string) *yaml.Node {
	d, err := format.ParseDev(v)
	if err != nil {
		b.fail(key, err)
		return nil
	}
	if d.Path == "" {
		return nil
	}
	m := mapping(kv("path", str(d.Path)))
	m.addStr("mode", d.Mode)
	m.addInt("uid", d.UID)
	m.addInt("gid", d.GID)
	m.addBool("deny-write", d.DenyWrite)
	return m.n()
}
