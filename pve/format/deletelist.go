package format

import (
	"regexp"
	"sort"
	"strings"
)

// DeleteItem is one entry of a delete list: a config key, and Force for the
// '!' prefix that PVE writes in the pending section's delete line
// (pve-guest-common PVE::AbstractConfig::parse_pending_delete).
type DeleteItem struct {
	Key   string
	Force bool
}

// configIDRE is pve-common's $CONFIGID_RE (format pve-configid).
var configIDRE = regexp.MustCompile(`(?i)^[a-z][a-z0-9_-]+$`)

var spacesRE = regexp.MustCompile(`\s+`)

// ParseDeleteList parses a delete list as PVE splits one
// (PVE::Tools::split_list): keys separated by ',', ';' or white space (or
// NUL bytes), empty entries ignored; a leading '!' marks a forced delete.
// Each key must be a config id (pve_verify_configid); the error names the
// offending entry. The entries keep their order and duplicates.
func ParseDeleteList(s string) ([]DeleteItem, error) {
	var fields []string
	if strings.Contains(s, "\x00") {
		fields = strings.Split(s, "\x00")
	} else {
		s = strings.NewReplacer(",", " ", ";", " ").Replace(s)
		fields = spacesRE.Split(strings.TrimSpace(s), -1)
	}
	var items []DeleteItem
	for _, f := range fields {
		if f == "" {
			continue
		}
		it := DeleteItem{Key: strings.TrimPrefix(f, "!")}
		it.Force = len(it.Key) != len(f)
		if !configIDRE.MatchString(it.Key) {
			return nil, &Error{Value: f, Msg: "invalid configuration ID '" + f + "'"}
		}
		items = append(items, it)
	}
	return items, nil
}

// FormatDeleteList prints items as PVE writes a delete list
// (PVE::AbstractConfig::print_pending_delete): keys sorted and unique,
// forced ones prefixed with '!', joined with ','. A key listed twice is
// forced when any of its entries is.
func FormatDeleteList(items []DeleteItem) string {
	force := map[string]bool{}
	for _, it := range items {
		force[it.Key] = force[it.Key] || it.Force
	}
	keys := make([]string, 0, len(force))
	for k := range force {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if force[k] {
			keys[i] = "!" + k
		}
	}
	return strings.Join(keys, ",")
}
