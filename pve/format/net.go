package format

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

var (
	ipv4OctetRE = `(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])`
	// ipv4RE is pve-common's $IPV4RE (PVE::ParseUtils).
	ipv4RE = regexp.MustCompile(`^(?:` + ipv4OctetRE + `\.){3}` + ipv4OctetRE + `$`)
	macRE  = regexp.MustCompile(`(?i)^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$`)
	cidrRE = regexp.MustCompile(`^(.*)/(\d+)$`)
)

func isIPv4(s string) bool { return ipv4RE.MatchString(s) }

// isIPv6 stands in for pve-common's $IPV6RE: an IPv6 address in any of the
// RFC 4291 text forms, without a zone.
func isIPv6(s string) bool {
	if strings.Contains(s, "%") || !strings.Contains(s, ":") {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// validCIDR reports whether s is "ADDR/BITS" with isIP(ADDR) and
// 7 < BITS <= maxBits, as pve_verify_cidrv4 and pve_verify_cidrv6 check.
func validCIDR(s string, isIP func(string) bool, maxBits int) bool {
	m := cidrRE.FindStringSubmatch(s)
	if m == nil || !isIP(m[1]) {
		return false
	}
	n, err := strconv.Atoi(m[2])
	return err == nil && n > 7 && n <= maxBits
}

func verifyIPv4(v string) string {
	if !isIPv4(v) {
		return "value does not look like a valid IPv4 address"
	}
	return ""
}

func verifyIPv6(v string) string {
	if !isIPv6(v) {
		return "value does not look like a valid IPv6 address"
	}
	return ""
}

func verifyIPv4Config(v string) string {
	if v == "dhcp" || v == "manual" || validCIDR(v, isIPv4, 32) {
		return ""
	}
	return "value does not look like a valid ipv4 network configuration"
}

func verifyIPv6Config(v string) string {
	if v == "auto" || v == "dhcp" || v == "manual" || validCIDR(v, isIPv6, 128) {
		return ""
	}
	return "value does not look like a valid ipv6 network configuration"
}

func verifyMAC(v string) string {
	if !macRE.MatchString(v) {
		return "value does not look like a valid unicast MAC address"
	}
	return ""
}

var ifaceNameRE = newPattern(`[-_.\w\d]+`)

// netSchema is the format of net[n] in apidata.json (pve-container
// $netconf_desc). It has no default key; name is required.
var netSchema = schema{
	"name":         {kind: kindString, pattern: ifaceNameRE},
	"bridge":       {kind: kindString, optional: true, pattern: ifaceNameRE},
	"firewall":     {kind: kindBool, optional: true},
	"gw":           {kind: kindString, optional: true, format: "ipv4"},
	"gw6":          {kind: kindString, optional: true, format: "ipv6"},
	"host-managed": {kind: kindBool, optional: true},
	"hwaddr":       {kind: kindString, optional: true, format: "mac-addr"},
	"ip":           {kind: kindString, optional: true, format: "pve-ipv4-config"},
	"ip6":          {kind: kindString, optional: true, format: "pve-ipv6-config"},
	"link_down":    {kind: kindBool, optional: true},
	"mtu":          {kind: kindInteger, optional: true, min: ptrFloat(64), max: ptrFloat(65535)},
	"rate":         {kind: kindNumber, optional: true},
	"tag":          {kind: kindInteger, optional: true, min: ptrFloat(1), max: ptrFloat(4094)},
	"trunks":       {kind: kindString, optional: true, pattern: newPattern(`(?:\d+(?:;\d+)*)`)},
	"type":         {kind: kindString, optional: true, enum: []string{"veth"}},
}

// Net is a netN value of a container config, such as
// "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:1B:6D:D4,ip=dhcp,type=veth".
// String fields are empty when not set (PVE has no empty values: "key=" is
// not a key-value part).
type Net struct {
	// Name is name=, the interface name inside the container. Required.
	Name string
	// Bridge is bridge=, the host bridge.
	Bridge string
	// Firewall is firewall=; unset means off.
	Firewall *bool
	// GW is gw=, the IPv4 gateway.
	GW string
	// GW6 is gw6=, the IPv6 gateway.
	GW6 string
	// HostManaged is host-managed=; unset means off.
	HostManaged *bool
	// HWAddr is hwaddr=, kept as written; Equal ignores its case.
	HWAddr string
	// IP is ip=: an IPv4 CIDR, "dhcp" or "manual".
	IP string
	// IP6 is ip6=: an IPv6 CIDR, "auto", "dhcp" or "manual".
	IP6 string
	// LinkDown is link_down=; unset means off.
	LinkDown *bool
	// MTU is mtu= (64..65535).
	MTU *int
	// Rate is rate= in MB/s.
	Rate *float64
	// Tag is tag=, the VLAN tag (1..4094).
	Tag *int
	// Trunks are trunks= VLAN ids, ';'-separated in the string.
	Trunks []int
	// Type is type=; the only value is "veth", which pve-container always
	// sets, so Equal treats unset as "veth".
	Type string
}

// ParseNet parses a netN value. Unknown keys, bad values and a missing name
// are *Error values naming the key.
func ParseNet(s string) (Net, error) {
	res, err := splitProperties(s, netSchema)
	if err != nil {
		return Net{}, err
	}
	n := Net{
		Name:        res["name"],
		Bridge:      res["bridge"],
		Firewall:    boolPtr(res, "firewall"),
		GW:          res["gw"],
		GW6:         res["gw6"],
		HostManaged: boolPtr(res, "host-managed"),
		HWAddr:      res["hwaddr"],
		IP:          res["ip"],
		IP6:         res["ip6"],
		LinkDown:    boolPtr(res, "link_down"),
		Type:        res["type"],
	}
	if n.MTU, err = intPtr(res, "mtu"); err != nil {
		return Net{}, err
	}
	if n.Tag, err = intPtr(res, "tag"); err != nil {
		return Net{}, err
	}
	if v, ok := res["rate"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return Net{}, &Error{Key: "rate", Value: v, Msg: "value '" + v + "' is out of range"}
		}
		n.Rate = &f
	}
	if v, ok := res["trunks"]; ok {
		for _, t := range strings.Split(v, ";") {
			id, err := strconv.Atoi(t)
			if err != nil {
				return Net{}, &Error{Key: "trunks", Value: v, Msg: "value '" + t + "' is out of range"}
			}
			n.Trunks = append(n.Trunks, id)
		}
	}
	return n, nil
}

// String prints n as PVE writes it (print_property_string): name (the
// required key) first, then the other keys sorted.
func (n Net) String() string {
	p := newPrinter(netSchema)
	p.str("name", n.Name)
	p.str("bridge", n.Bridge)
	p.boolean("firewall", n.Firewall)
	p.str("gw", n.GW)
	p.str("gw6", n.GW6)
	p.boolean("host-managed", n.HostManaged)
	p.str("hwaddr", n.HWAddr)
	p.str("ip", n.IP)
	p.str("ip6", n.IP6)
	p.boolean("link_down", n.LinkDown)
	p.integer("mtu", n.MTU)
	if n.Rate != nil {
		p.str("rate", strconv.FormatFloat(*n.Rate, 'f', -1, 64))
	}
	p.integer("tag", n.Tag)
	if len(n.Trunks) > 0 {
		ids := make([]string, len(n.Trunks))
		for i, t := range n.Trunks {
			ids[i] = strconv.Itoa(t)
		}
		p.str("trunks", strings.Join(ids, ";"))
	}
	p.str("type", n.Type)
	return p.String()
}

// Equal reports whether n and o mean the same: hwaddr ignores case,
// addresses compare as addresses (so IPv6 spellings match), trunks as a set,
// unset booleans equal off, unset type equals veth.
func (n Net) Equal(o Net) bool {
	return n.Name == o.Name &&
		n.Bridge == o.Bridge &&
		netSchema.boolEqual("firewall", n.Firewall, o.Firewall) &&
		AddrEqual(n.GW, o.GW) &&
		AddrEqual(n.GW6, o.GW6) &&
		netSchema.boolEqual("host-managed", n.HostManaged, o.HostManaged) &&
		strings.EqualFold(n.HWAddr, o.HWAddr) &&
		AddrEqual(n.IP, o.IP) &&
		AddrEqual(n.IP6, o.IP6) &&
		netSchema.boolEqual("link_down", n.LinkDown, o.LinkDown) &&
		ptrEqual(n.MTU, o.MTU) &&
		ptrEqual(n.Rate, o.Rate) &&
		ptrEqual(n.Tag, o.Tag) &&
		setEqual(n.Trunks, o.Trunks) &&
		typeOr(n.Type) == typeOr(o.Type)
}

func typeOr(t string) string {
	if t == "" {
		return "veth"
	}
	return t
}

// AddrEqual reports whether two IP addresses or CIDRs are the same by value
// ("fd00::1/64" equals "fd00:0::1/64"); keywords ("dhcp", "auto",
// "manual") and anything else that does not parse compare as written. Net
// compares gw, gw6, ip and ip6 with it.
func AddrEqual(a, b string) bool {
	if a == b {
		return true
	}
	if pa, err := netip.ParsePrefix(a); err == nil {
		pb, err := netip.ParsePrefix(b)
		return err == nil && pa == pb
	}
	if aa, err := netip.ParseAddr(a); err == nil {
		ab, err := netip.ParseAddr(b)
		return err == nil && aa == ab
	}
	return false
}
