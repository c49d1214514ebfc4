// Package format parses and prints the value formats of Proxmox VE's LXC
// configuration: disk sizes, the property strings of rootfs, mpN, netN,
// features, startup and devN, and delete lists.
//
// It owns what these values mean, so the PVE client, the simulator, the spec
// loader and the diff agree: each property-string type has a Parse function,
// String (the text PVE writes) and Equal (same meaning, any spelling).
// Optional keys are pointers or empty strings and slices, so "not set"
// differs from zero. Bad values are *Error values that name the key and
// carry PVE's own wording; Error.PVEMessage renders the text PVE puts in a
// 400 response's per-parameter errors map.
//
// It must not do I/O or know about nodes, storages or permissions: whether a
// volume exists, whether a bind mount is allowed or what a new volume is
// called is the caller's business. The one storage fact it keeps is what a
// storage type can do for a container volume (SnapshotCapable), a pure
// table that the diff and the simulator must agree on.
//
// # Sources
//
// Keys, types, optional-ness, default_key, defaults, format names, patterns,
// enums and minimum/maximum come from the format objects of the rootfs,
// mp[n], net[n], features, startup and dev[n] parameters of PUT
// /nodes/{node}/lxc/{vmid}/config and POST /nodes/{node}/lxc in apidata.json
// (PVE 9.1). SchemaDiff compares the tables with that schema key by key, in
// both directions; TestKeyTablesMatchSchema runs it on apidata.json (through
// internal/testref, so CI never skips it). Patterns are kept as the schema
// prints them, with Perl's "(?^:" written "(?:"; Go's \w and \d are ASCII
// where Perl's may match other letters and digits in a character string.
// Equal treats an unset boolean as the schema's default, off when there is
// none. That schema
// has no idmap key (pve-container master added one to $rootfs_desc in 2026)
// and no keepattrs in rootfs, so both are unknown keys here. Where the schema
// is silent, the code follows (fetched 2026-11, pve-common 9.2.1,
// pve-container 94f5585, pve-manager master):
//
//   - pve-common src/PVE/JSONSchema.pm parse_property_string: values are split
//     on ','; blank parts are skipped; "key=value" needs a non-empty value; a
//     part without '=' is the default key's value; booleans are normalised by
//     parse_boolean (1/on/yes/true, 0/off/no/false, any case) before
//     check_object; the die messages "invalid key in comma-separated list
//     property: K", "duplicate key ...", "missing key ...", "value without key,
//     but schema does not define a default key".
//   - check_object, check_prop, check_type: "property is missing and it is not
//     optional", "type check ('integer') failed - got 'x'" (is_integer allows
//     a sign, is_number allows exponents), then format validator ("invalid
//     format - ..."), pattern anchored as ^...$ ("value does not match the
//     regex pattern"), minimum/maximum, enum ("value 'x' does not have a value
//     in the enumeration 'veth'"). PVE reports every bad key; Error carries
//     the first in key order and the others in More. Prop.Check is that
//     check_prop for one value; the simulator validates API parameters
//     with it too, so the rule is written once.
//   - print_property_string: the default key first and bare, then the
//     required keys sorted, then the optional keys sorted; disk-size values
//     through format_size. That is why net0 prints "name=eth0,bridge=..."
//     and mp0 "VOLUME,mp=PATH,...", as the real API responses show.
//   - parse_size / format_size / pve_verify_disk_size: \d+(\.\d+)? with K, M,
//     G, T (powers of 1024; KiB..TiB since pve-common 9.0.9) and int()
//     truncation; format_size picks the largest unit that divides exactly, so
//     0 prints "0T". Size arithmetic here is exact (math/big), where Perl uses
//     doubles; they differ only past ~15 significant digits.
//   - pve_parse_startup_order (named format pve-startup-order): not a format
//     object; "[order=]N", "up=N", "down=N", a repeated key overrides, any
//     error is "unable to parse startup options", and "" or "0" is invalid
//     (Perl-false). PVE stores startup as sent and never reprints it, so
//     String uses the web interface's order (pve-manager
//     www/manager6/Parser.js printStartup: order, up, down).
//   - ipv4, ipv6, pve-ipv4-config, pve-ipv6-config, mac-addr validators with
//     $IPV4RE (no leading zeros) and CIDR prefix lengths 8..32 / 8..128; the
//     IPv6 grammar is checked with net/netip instead of $IPV6RE.
//   - pve-container src/PVE/LXC/Config.pm: verify_lxc_mp_string,
//     verify_lxc_dev_string, classify_mountpoint (/dev/... device, other
//     absolute path bind, else volume); src/PVE/LXC.pm $NEW_DISK_RE
//     ^([^:\s]+):(\d+(\.\d+)?)$ and create_disks' int(SIZE*1024) MiB.
//     parse_lxc_network then forces type=veth and invents a hwaddr, and
//     parse_device requires path: those are config rules, not format rules,
//     and are left to the callers.
//   - Volume ids: pve-storage src/PVE/Storage/Plugin.pm parse_volume_id
//     (format pve-volume-id), m/^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$/i:
//     case-insensitive, and Perl's $ allows a final newline.
//   - Delete lists: pve-common PVE::Tools::split_list (NUL, or ',', ';' and
//     white space), pve_verify_configid (^[a-z][a-z0-9_-]+$, case-insensitive);
//     the '!' force prefix and the sorted print are pve-guest-common
//     PVE::AbstractConfig parse_pending_delete / print_pending_delete. The
//     API's delete parameter itself rejects '!'.
//
// # Where String differs from PVE
//
// PVE echoes the spelling of string, integer and number values; String
// prints integers and numbers in plain decimal ("mtu=+1500" prints
// "mtu=1500", "rate=1e2" prints "rate=100") and trunks without leading
// zeros. A default-key value holding '=' or only blanks keeps its key
// ("volume=a=b"), where PVE would write a value it cannot read back. String
// does not check values built in Go: a value holding ',' produces a string
// that does not parse (PVE dies "illegal value with commas").
package format
