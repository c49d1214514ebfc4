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

// IsConfigID reports whether s is a config id (pve-common
// pve_verify_configid, format pve-configid): a letter, then letters,
// digits, '_' or '-', two characters at least, any case. Delete list
// keys and snapshot names are config ids.
func IsConfigID(s string) bool { return configIDRE.MatchString(s) }

// listSepRE is the separator of split(/\s+/, ...): Perl's \s, which
// unlike Go's also matches \v.
var listSepRE = regexp.MustCompile(`[\t\n\v\f\r ]+`)

// SplitList splits a list parameter as PVE::Tools::split_list does: at NUL
// bytes when there are any, otherwise as SplitWords.
func SplitList(s string) []string {
	if strings.Contains(s, "\x00") {
		return dropTrailingEmpty(strings.Split(s, "\x00"))
	}
	return SplitWords(s)
}

// SplitWords splits s at ',', ';' and white space, leading white space
// ignored, and drops trailing empty fields (Perl's split): split_list
// without its NUL branch, which is how
// PVE::AbstractConfig::parse_pending_delete splits a pending delete line.
func SplitWords(s string) []string {
	s = strings.NewReplacer(",", " ", ";", " ").Replace(s)
	s = strings.TrimLeft(s, "\t\n\v\f\r ")
	if s == "" {
		return nil
	}
	return dropTrailingEmpty(listSepRE.Split(s, -1))
}

// dropTrailingEmpty removes the trailing empty fields, as Perl's split does.
func dropTrailingEmpty(parts []string) []string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// ParseDeleteList parses a delete list as PVE splits one (SplitList): keys
// separated by ',', ';' or white space (or NUL bytes), empty entries
// ignored; a leading '!' marks a forced delete. Each key must be a config
// id (pve_verify_configid); the error names the offending entry. The
// entries keep their order and duplicates.
func ParseDeleteList(s string) ([]DeleteItem, error) {
	var items []DeleteItem
	for _, f := range SplitList(s) {
		if f == "" {
			continue
		}
		it := DeleteItem{Key: strings.TrimPrefix(f, "!")}
		it.Force = len(it.Key) != len(f)
		if !IsConfigID(it.Key) {
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
