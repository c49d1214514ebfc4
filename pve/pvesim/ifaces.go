package pvesim

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// interfaces is GET /nodes/{node}/lxc/{vmid}/interfaces (pve-container
// src/PVE/API2/LXC.pm ip, LXC.pm get_interfaces): `ip --json a` inside
// the container's network namespace. The config is never loaded: when
// find_lxc_pid dies (the container is stopped, or does not exist on the
// node) get_interfaces returns undef and the answer is null. A running
// container has lo and one interface per netN in index order, the MAC in
// ip's lower case; each carries its addresses in ip-addresses and, per
// family, the last one as inet/inet6 "addr/prefix" (the deprecated keys).
// Addresses: a static ip=/ip6= CIDR, an IPv6 link-local (EUI-64 from the
// MAC, as the kernel assigns it) on every netN, and for ip=dhcp an
// invented lease 10.x.y.z/8 from the vmid.
func (s *Sim) interfaces(r *request) (any, error) {
	ct := s.cts[r.vmid()]
	if ct == nil || ct.node != r.params["node"] || !ct.running {
		return nil, nil
	}
	f, err := ct.view()
	if err != nil {
		return nil, nil
	}
	type addr struct {
		family, ip string
		prefix     int
	}
	iface := func(name, mac string, addrs []addr) map[string]any {
		m := map[string]any{"name": name, "hwaddr": mac, "hardware-address": mac}
		list := []map[string]any{}
		for _, a := range addrs {
			m[a.family] = a.ip + "/" + strconv.Itoa(a.prefix)
			list = append(list, map[string]any{"ip-address-type": a.family, "ip-address": a.ip, "prefix": a.prefix})
		}
		m["ip-addresses"] = list
		return m
	}
	out := []map[string]any{iface("lo", "00:00:00:00:00:00", []addr{{"inet", "127.0.0.1", 8}, {"inet6", "::1", 128}})}
	var idx []int
	nets := map[int]format.Net{}
	for _, k := range f.Main.Keys() {
		i, ok := indexOf(k, "net")
		if !ok {
			continue
		}
		v, _ := f.Get(k)
		n, err := format.ParseNet(v)
		if err != nil {
			continue
		}
		idx = append(idx, i)
		nets[i] = n
	}
	sort.Ints(idx)
	for _, i := range idx {
		n := nets[i]
		mac := strings.ToLower(n.HWAddr)
		var addrs []addr
		switch {
		case n.IP == "dhcp":
			addrs = append(addrs, addr{"inet", fmt.Sprintf("10.%d.%d.%d", ct.vmid>>16&255, ct.vmid>>8&255, ct.vmid&255), 8})
		case strings.Contains(n.IP, "/"):
			ip, bits, _ := strings.Cut(n.IP, "/")
			b, _ := strconv.Atoi(bits)
			addrs = append(addrs, addr{"inet", ip, b})
		}
		if strings.Contains(n.IP6, "/") {
			ip, bits, _ := strings.Cut(n.IP6, "/")
			b, _ := strconv.Atoi(bits)
			addrs = append(addrs, addr{"inet6", ip, b})
		}
		if ll := linkLocal(mac); ll != "" {
			addrs = append(addrs, addr{"inet6", ll, 64})
		}
		out = append(out, iface(n.Name, mac, addrs))
	}
	return out, nil
}

// linkLocal is the EUI-64 IPv6 link-local address of a MAC (the
// universal/local bit flipped, ff:fe in the middle), "" for a bad MAC.
func linkLocal(mac string) string {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return ""
	}
	ip := net.IP{0xfe, 0x80, 0, 0, 0, 0, 0, 0, hw[0] ^ 2, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]}
	return ip.String()
}
