package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/pve/format"
)

// checker runs the semantic checks a schema cannot express on one decoded
// document, pointing each problem at its place in the (merged) tree.
type checker struct {
	root  *node
	file  string
	skip  map[string]bool
	diags Diagnostics
}

func (c *checker) report(sev Severity, ptr, hint, msg string, args ...any) {
	n, keyPos := c.root.lookup(ptr)
	pos := keyPos
	if n != nil && n.kind != mapNode && n.kind != seqNode {
		pos = n.pos
	}
	if pos.File == "" {
		pos.File = c.file
	}
	d := Diagnostic{File: pos.File, Line: pos.Line, Column: pos.Column, Path: ptr, Message: fmt.Sprintf(msg, args...), Hint: hint, Severity: sev}
	if n != nil && n.kind != mapNode {
		d.Value = n.display()
	}
	c.diags = append(c.diags, d)
}

func (c *checker) errorf(ptr, hint, msg string, args ...any) {
	c.report(SeverityError, ptr, hint, msg, args...)
}

func (c *checker) warnf(ptr, hint, msg string, args ...any) {
	c.report(SeverityWarning, ptr, hint, msg, args...)
}

// has reports whether the document sets ptr (and the schema did not reject it).
func (c *checker) has(ptr string) bool {
	n, _ := c.root.lookup(ptr)
	return n != nil && !c.skip[ptr]
}

func (c *checker) check(d *Document) {
	s := &d.Spec
	if d.Kind == KindDefaults {
		for _, k := range []string{"vmid", "hostname"} {
			if c.has("/spec/" + k) {
				c.errorf("/spec/"+k, "set it in each container's own file", "%s cannot be a default: it must differ for every container", k)
			}
		}
	}
	c.memory("/spec/memory", s.Memory, 16)
	c.memory("/spec/swap", s.Swap, 0)
	if s.Nameserver != nil {
		for _, a := range strings.Fields(*s.Nameserver) {
			if _, err := netip.ParseAddr(a); err != nil {
				c.errorf("/spec/nameserver", "write IP addresses separated by spaces, e.g. 192.168.1.53 1.1.1.1", "nameserver: %q is not an IP address", a)
			}
		}
	}
	if s.Searchdomain != nil {
		for _, d := range strings.Fields(*s.Searchdomain) {
			if !dnsNameRE.MatchString(d) {
				c.errorf("/spec/searchdomain", "write domain names separated by spaces, e.g. home.lan example.com", "searchdomain: %q is not a domain name", d)
			}
		}
	}
	c.nets(s.Net)
	c.mounts(s)
	c.devices(s.Devices)
	c.createChecks(d)
	if b := s.Backup; b != nil {
		c.schedule("/spec/backup/schedule", b.Schedule)
		if b.MaxAge != nil && *b.MaxAge <= 0 && c.has("/spec/backup/max-age") {
			c.errorf("/spec/backup/max-age", "write it like 36h or 90m", "backup.max-age must be longer than zero")
		}
		if r := b.Retention; r != nil && r.KeepAll != nil && *r.KeepAll {
			var others []string
			for _, k := range []struct {
				name string
				v    *int
			}{{"keep-last", r.KeepLast}, {"keep-hourly", r.KeepHourly}, {"keep-daily", r.KeepDaily}, {"keep-weekly", r.KeepWeekly}, {"keep-monthly", r.KeepMonthly}, {"keep-yearly", r.KeepYearly}} {
				if k.v != nil {
					others = append(others, k.name)
				}
			}
			if len(others) > 0 {
				c.errorf("/spec/backup/retention/keep-all", "remove keep-all, or remove "+strings.Join(others, ", "),
					"backup.retention: keep-all: true cannot be combined with %s", strings.Join(others, ", "))
			}
		}
	}
	if r := s.Restart; r != nil {
		switch {
		case r.Mode == RestartInWindow && r.Window == nil && !c.has("/spec/restart/window"):
			c.errorf("/spec/restart/mode", "add window: {schedule: \"sun 03:00\", duration: 2h}", "restart.mode is window but no restart.window is given")
		case r.Mode != RestartInWindow && c.has("/spec/restart/window") && c.has("/spec/restart/mode"):
			c.errorf("/spec/restart/window", "set mode: window, or remove window", "restart.window is only used with mode: window (mode is %s)", r.Mode)
		}
		if w := r.Window; w != nil {
			c.schedule("/spec/restart/window/schedule", w.Schedule)
			if c.has("/spec/restart/window/duration") && w.Duration <= 0 {
				c.errorf("/spec/restart/window/duration", "write it like 2h or 90m", "restart.window.duration must be longer than zero")
			}
		}
	}
	if sp := s.Snapshot; sp != nil && sp.WhenImpossible == SnapshotVzdump && d.Kind == KindContainer && s.Backup == nil {
		c.errorf("/spec/snapshot/when-impossible", "add a backup policy (backup.storage says where vzdump writes)", "snapshot.when-impossible: vzdump needs backup.storage to know where to write the backup")
	}
}

func (c *checker) memory(ptr string, v *format.Size, minMiB int64) {
	if v == nil {
		return
	}
	if *v%format.MiB != 0 {
		c.errorf(ptr, "PVE counts memory in whole MiB; write e.g. 512M or 1536M", "%s must be a whole number of MiB", label(ptr))
		return
	}
	if int64(*v/format.MiB) < minMiB {
		c.errorf(ptr, "", "%s must be at least %d MiB", label(ptr), minMiB)
	}
}

func (c *checker) schedule(ptr, expr string) {
	if !c.has(ptr) {
		return
	}
	ev, err := calendar.Parse(expr)
	if err != nil {
		hint := "PVE calendar events look like daily, mon..fri 02:30, sat 03:00 or *-*-1 04:00; try: felhom schedule EXPR"
		var pe *calendar.ParseError
		if !errors.As(err, &pe) {
			c.errorf(ptr, hint, "%s: %q is not a valid calendar event: %v", label(ptr), expr, err)
			return
		}
		msg := fmt.Sprintf("%s: %q is not a valid calendar event: %s", label(ptr), expr, pe.Msg)
		if pe.Pos < len(expr) {
			msg += fmt.Sprintf(" at %q", expr[pe.Pos:])
		}
		c.errorf(ptr, hint, "%s", msg)
		// Point at the offending part when the value is on one line as
		// written (no escapes to shift the offsets).
		if n, _ := c.root.lookup(ptr); n != nil && n.kind == scalarNode && !strings.ContainsAny(n.raw, "\\\n") && pe.Pos < len(expr) {
			d := &c.diags[len(c.diags)-1]
			d.Column += pe.Pos
			if n.quoted {
				d.Column++
			}
		}
		return
	}
	// A fixed start keeps the check pure; every valid event fires within
	// a few years of any date.
	if _, ok := ev.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); !ok {
		c.warnf(ptr, "check the date; felhom schedule EXPR --count 3 shows the next runs", "%s: calendar event %q never fires", label(ptr), expr)
	}
}

// dnsNameRE is pve-common's dns-name format (PVE/JSONSchema.pm $DNS_NAME_STR).
var dnsNameRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)

// slots returns a map's keys in slot order (net2 before net10).
func slots[T any](m map[string]T, prefix string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(keys[i], prefix))
		b, _ := strconv.Atoi(strings.TrimPrefix(keys[j], prefix))
		return a < b
	})
	return keys
}

func (c *checker) nets(nets map[string]NetIf) {
	names := map[string]string{}
	for _, slot := range slots(nets, "net") {
		n := nets[slot]
		base := "/spec/net/" + slot
		if n.Name != nil {
			if other, dup := names[*n.Name]; dup {
				c.errorf(base+"/name", "each interface needs its own name", "net.%s.name: %q is already used by %s", slot, *n.Name, other)
			}
			names[*n.Name] = slot
		}
		if n.IP != nil {
			c.ipConfig(base+"/ip", *n.IP, false)
		}
		if n.IP6 != nil {
			c.ipConfig(base+"/ip6", *n.IP6, true)
		}
		if n.GW != nil {
			if a, err := netip.ParseAddr(*n.GW); err != nil || !a.Is4() {
				c.errorf(base+"/gw", "write an IPv4 address, e.g. 192.168.1.1", "net.%s.gw: %q is not an IPv4 address", slot, *n.GW)
			}
		}
		if n.GW6 != nil {
			if a, err := netip.ParseAddr(*n.GW6); err != nil || !a.Is6() || a.Is4In6() {
				c.errorf(base+"/gw6", "write an IPv6 address, e.g. fd00::1", "net.%s.gw6: %q is not an IPv6 address", slot, *n.GW6)
			}
		}
		if n.HWAddr != nil && len(*n.HWAddr) == 17 {
			// pve-common pve_verify_mac_addr: the first octet must be even (unicast).
			if b, err := strconv.ParseUint((*n.HWAddr)[:2], 16, 8); err == nil && b&1 == 1 {
				c.errorf(base+"/hwaddr", "the first octet must be even; PVE generates BC:24:11:xx:xx:xx", "net.%s.hwaddr: %q is a multicast address", slot, *n.HWAddr)
			}
		}
	}
}

func (c *checker) ipConfig(ptr, v string, six bool) {
	keywords := []string{"dhcp", "manual"}
	family, example := "IPv4", "192.168.1.10/24"
	if six {
		keywords = []string{"dhcp", "auto", "manual"}
		family, example = "IPv6", "fd00::10/64"
	}
	for _, k := range keywords {
		if v == k {
			return
		}
	}
	p, err := netip.ParsePrefix(v)
	ok := err == nil && (p.Addr().Is4() != six) && !p.Addr().Is4In6()
	if !ok {
		hint := fmt.Sprintf("write an %s address with its prefix length, e.g. %s, or one of %s", family, example, strings.Join(keywords, ", "))
		if _, aerr := netip.ParseAddr(v); aerr == nil {
			hint = "add the prefix length, e.g. " + v + "/24"
			if six {
				hint = "add the prefix length, e.g. " + v + "/64"
			}
		}
		c.errorf(ptr, hint, "%s: %q is not an %s address in CIDR notation", label(ptr), v, family)
	}
}

// containerPath checks a path inside the container or on the host.
func (c *checker) absPath(ptr, p, what string) bool {
	if !strings.HasPrefix(p, "/") {
		hint := "write an absolute path such as /srv/data"
		if p != "" && !strings.Contains(p, "..") {
			hint = "write it from the root: /" + strings.TrimPrefix(p, "./")
		}
		c.errorf(ptr, hint, "%s: %s %q is not absolute", label(ptr), what, p)
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			c.errorf(ptr, "write the path without .. (PVE refuses it)", "%s: %s %q contains \"..\"", label(ptr), what, p)
			return false
		}
	}
	return true
}

// devices checks each devN's path as PVE will (pve-container $dev_desc and
// verify_lxc_dev_string, in pve/format): below /dev/, without "." or ".."
// components.
func (c *checker) devices(devs map[string]Device) {
	for _, slot := range slots(devs, "dev") {
		d := devs[slot]
		if d.Path == "" {
			continue // the schema reported it
		}
		if _, err := format.ParseDev(format.Dev{Path: d.Path}.String()); err != nil {
			c.errorf("/spec/devices/"+slot+"/path", "write the device node's path, e.g. /dev/ttyUSB0",
				"devices.%s.path: %q is not a device path below /dev/", slot, d.Path)
		}
	}
}

func (c *checker) mounts(s *ContainerSpec) {
	paths := map[string]string{}
	volumes := map[string]string{}
	for _, slot := range slots(s.MountPoints, "mp") {
		m := s.MountPoints[slot]
		base := "/spec/mountpoints/" + slot
		var sources []string
		for _, k := range []string{"storage", "volume", "bind", "device"} {
			if c.has(base + "/" + k) {
				sources = append(sources, k)
			}
		}
		switch {
		case len(sources) == 0 && !c.skipAny(base, "storage", "volume", "bind", "device"):
			c.errorf(base, "add storage + size for a new volume, volume for an existing one, bind for a host directory or device for a host device",
				"mountpoints.%s: say what to mount", slot)
		case len(sources) > 1:
			c.errorf(base+"/"+sources[1], "keep exactly one of storage, volume, bind and device", "mountpoints.%s: %s and %s cannot be combined", slot, sources[0], sources[1])
		}
		if len(sources) == 1 && m.Storage != "" && m.Size == nil && !c.skip[base+"/size"] {
			c.errorf(base+"/storage", "add size, e.g. size: 32G", "mountpoints.%s: a new volume on %s needs a size", slot, m.Storage)
		}
		if (m.Bind != "" || m.Device != "") && c.has(base+"/size") {
			c.errorf(base+"/size", "remove size; only volumes have one", "mountpoints.%s: size applies to volumes, not to %s mounts", slot, m.Kind())
		}
		if (m.Bind != "" || m.Device != "") && m.Backup != nil && *m.Backup {
			c.warnf(base+"/backup", "vzdump backs up volumes only", "mountpoints.%s: backup has no effect on a %s mount", slot, m.Kind())
		}
		if m.Volume != "" && c.has(base+"/volume") {
			if other, dup := volumes[m.Volume]; dup {
				c.errorf(base+"/volume", "a volume can be mounted once; use a bind mount to share a host folder", "mountpoints.%s.volume: %s is already mounted by %s", slot, m.Volume, other)
			}
			volumes[m.Volume] = slot
		}
		if m.Bind != "" {
			c.absPath(base+"/bind", m.Bind, "host path")
		}
		if m.Device != "" && c.absPath(base+"/device", m.Device, "device path") && !strings.HasPrefix(m.Device, "/dev/") {
			c.errorf(base+"/device", "write a path under /dev, e.g. /dev/disk/by-id/...", "mountpoints.%s.device: %q is not under /dev", slot, m.Device)
		}
		if m.MP == "" || !c.has(base+"/mp") {
			continue
		}
		if !c.absPath(base+"/mp", m.MP, "mount path") {
			continue
		}
		clean := path.Clean(m.MP)
		if clean == "/" {
			c.errorf(base+"/mp", "the root file system is rootfs; mount elsewhere, e.g. /srv/data", "mountpoints.%s.mp cannot be /", slot)
			continue
		}
		if other, dup := paths[clean]; dup {
			c.errorf(base+"/mp", "give each mount point its own path", "mountpoints.%s.mp: %s is already the mount path of %s", slot, clean, other)
			continue
		}
		paths[clean] = slot
	}
}

func (c *checker) skipAny(base string, keys ...string) bool {
	for _, k := range keys {
		if c.skip[base+"/"+k] {
			return true
		}
	}
	return c.skip[base]
}

// applyDefaults fills what Load promises is always set: the snapshot,
// restart and drift policies. The hostname is not among them: metadata.name
// names the spec, and a spec that leaves hostname out does not manage it.
func applyDefaults(d *Document) {
	s := &d.Spec
	if s.Snapshot == nil {
		s.Snapshot = &SnapshotPolicy{}
	}
	if s.Snapshot.BeforeChange == nil {
		t := true
		s.Snapshot.BeforeChange = &t
	}
	if s.Snapshot.WhenImpossible == "" {
		s.Snapshot.WhenImpossible = SnapshotRefuse
	}
	if s.Snapshot.Keep == nil {
		k := DefaultSnapshotKeep
		s.Snapshot.Keep = &k
	}
	if s.Snapshot.OnFailure == "" {
		s.Snapshot.OnFailure = OnFailureRollback
	}
	if s.Restart == nil {
		s.Restart = &RestartPolicy{}
	}
	if s.Restart.Mode == "" {
		s.Restart.Mode = RestartNever
		if s.Restart.Window != nil {
			s.Restart.Mode = RestartInWindow
		}
	}
	if s.Drift == "" {
		s.Drift = DriftRevert
	}
}
