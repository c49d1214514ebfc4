package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// keyAliases are the names other tools (PVE's older config, ifupdown,
// cloud-init, Ansible's proxmox modules) give to a spec key. Edit distance
// alone would send "ipaddr" to "hwaddr", so a known alias wins.
var keyAliases = map[string]string{
	"ipaddr":     "ip",
	"ipv4":       "ip",
	"ip4":        "ip",
	"ipaddress":  "ip",
	"ipv6":       "ip6",
	"gateway":    "gw",
	"gateway6":   "gw6",
	"mac":        "hwaddr",
	"macaddr":    "hwaddr",
	"macaddress": "hwaddr",
	"vlan":       "tag",
	"ram":        "memory",
	"cpus":       "cores",
	"dns":        "nameserver",
}

// aliasOf returns the key that k is another tool's name for, when that key
// is allowed here, or "".
func aliasOf(k string, allowed map[string]any) string {
	a, ok := keyAliases[strings.ToLower(k)]
	if !ok {
		return ""
	}
	if _, ok := allowed[a]; !ok {
		return ""
	}
	return a
}

// slotHome returns where a slot key such as mp0 or net0, written among the
// keys of an object, belongs: the dotted path of the member of that object
// whose slots it names (spec.mountpoints for mp0), or "".
func (s *compiled) slotHome(k, at string, allowed map[string]any) string {
	for name, v := range allowed {
		p, _ := v.(map[string]any)
		for n := p; n != nil; n = s.resolve(n) {
			pn, _ := n["propertyNames"].(map[string]any)
			pat, _ := pn["pattern"].(string)
			if pat == "" {
				continue
			}
			if re, err := regexp.Compile(pat); err == nil && re.MatchString(k) {
				if at == "" {
					return name
				}
				return at + "." + name
			}
		}
	}
	return ""
}

// slotNouns names what the slots of a keyed mapping are, for the message
// about a slot's own key written in place of a slot.
var slotNouns = map[string]string{
	"net":         "interfaces",
	"mountpoints": "mount points",
	"devices":     "devices",
}

// notASlot is the message for key k written directly under the mapping at
// where (net: {hwaddr: ...}) when k is a key of its slots: the mapping is
// keyed by slot, and k belongs inside one.
func notASlot(where, k, example string) string {
	noun := slotNouns[lastToken("/"+strings.ReplaceAll(where, ".", "/"))]
	if noun == "" {
		noun = "slots"
	}
	return fmt.Sprintf("%q is not a slot: %s is a mapping of %s (such as %s), and %s belongs under one of them, as in %s.%s.%s",
		k, where, noun, example, k, where, example, k)
}

// dotted writes a JSON pointer as a dotted path: /spec/net -> spec.net.
func dotted(ptr string) string {
	return strings.ReplaceAll(strings.TrimPrefix(ptr, "/"), "/", ".")
}

// sizeWithoutB rewrites a size written with a byte unit as other tools do,
// "2048MB", "2GB" or "8 GB", as the spec writes it ("2048M", "2G"), or
// returns "" when s is not such a size. The spec, as PVE, counts in powers
// of 1024, which is what a PVE admin writing 2GB means.
func sizeWithoutB(s string) string {
	t := strings.ReplaceAll(s, " ", "")
	if len(t) < 3 || (t[len(t)-1] != 'B' && t[len(t)-1] != 'b') || !strings.ContainsRune("KMGTkmgt", rune(t[len(t)-2])) {
		return ""
	}
	return t[:len(t)-2] + strings.ToUpper(t[len(t)-2:len(t)-1])
}

// yamlHints say, for yaml.v3's syntax messages a spec writer meets most,
// what usually causes them.
var yamlHints = []struct{ msg, hint string }{
	{"mapping values are not allowed", `this line's key is indented differently from the keys above it, or a value holds ": " and needs quotes`},
	{"found a tab character", "indent with spaces: YAML does not allow tabs"},
	{"did not find expected ',' or '}'", `a {...} mapping is not closed with "}", or a value in it holds "," and needs quotes`},
	{"did not find expected ',' or ']'", `a [...] list is not closed with "]", or an item holds "," and needs quotes`},
	{"did not find expected key", "a line is indented less than the keys of its mapping, or a list item (- ...) stands among keys"},
	{"could not find expected ':'", `a key has no ":" after it, or a quoted value is not closed`},
	{"found character that cannot start any token", "a value starting with @, ` or % needs quotes"},
	{"found unexpected end of stream", "a quoted value is not closed"},
}

// syntaxHint returns the likely cause of a YAML syntax message, or "".
func syntaxHint(msg string) string {
	for _, h := range yamlHints {
		if strings.Contains(msg, h.msg) {
			return h.hint
		}
	}
	return ""
}
