package format

import (
	"strconv"
	"strings"
)

// slotPrefixes are the config keys PVE numbers: netN, mpN, unusedN, devN
// (pve-container src/PVE/LXC/Config.pm: "net$i", "mp$i", "unused$i",
// "dev$i").
var slotPrefixes = []string{"net", "mp", "unused", "dev"}

// Slot splits a numbered config key as PVE names them, "mp3" into ("mp",
// 3): one of net, mp, unused, dev and a decimal index without leading zeros.
// ok is false for any other key. Callers check the index's upper bound.
func Slot(key string) (prefix string, n int, ok bool) {
	for _, p := range slotPrefixes {
		rest, found := strings.CutPrefix(key, p)
		if !found || rest == "" || len(rest) > 4 || (len(rest) > 1 && rest[0] == '0') {
			continue
		}
		for i := 0; i < len(rest); i++ {
			if rest[i] < '0' || rest[i] > '9' {
				return "", 0, false
			}
		}
		n, _ := strconv.Atoi(rest)
		return p, n, true
	}
	return "", 0, false
}

// IsSlot reports whether key is a Slot of prefix: IsSlot("net2", "net").
func IsSlot(key, prefix string) bool {
	p, _, ok := Slot(key)
	return ok && p == prefix
}

// ParseBool reads a PVE boolean as PVE::JSONSchema::parse_boolean does: 1,
// on, yes, true and 0, off, no, false, in any case. ok is false for
// anything else.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "1", "on", "yes", "true":
		return true, true
	case "0", "off", "no", "false":
		return false, true
	}
	return false, false
}
