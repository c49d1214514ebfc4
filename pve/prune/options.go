package prune

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Options are the keep-* settings of a prune-backups property string
// (pve-storage PVE::Storage::Plugin $prune_backups_format). A nil pointer
// means "not set", which PVE prints differently from 0 even though both
// keep nothing in their pass.
type Options struct {
	KeepAll     *bool
	KeepLast    *int
	KeepHourly  *int
	KeepDaily   *int
	KeepWeekly  *int
	KeepMonthly *int
	KeepYearly  *int
}

// Bool and Int return pointers for building Options literals.
func Bool(v bool) *bool { return &v }

// Int returns a pointer to v; see Bool.
func Int(v int) *int { return &v }

// counts lists the keep-N options by property key, in PVE's key order
// (print_property_string sorts keys).
func (o *Options) counts() []struct {
	key string
	p   **int
} {
	return []struct {
		key string
		p   **int
	}{
		{"keep-daily", &o.KeepDaily},
		{"keep-hourly", &o.KeepHourly},
		{"keep-last", &o.KeepLast},
		{"keep-monthly", &o.KeepMonthly},
		{"keep-weekly", &o.KeepWeekly},
		{"keep-yearly", &o.KeepYearly},
	}
}

// KeepsAll reports whether o keeps every backup: keep-all is true, or no
// keep-N option is above zero (prune_mark_backup_group).
func (o Options) KeepsAll() bool {
	if o.KeepAll != nil && *o.KeepAll {
		return true
	}
	for _, c := range o.counts() {
		if *c.p != nil && **c.p > 0 {
			return false
		}
	}
	return true
}

// Normalize applies PVE's validate_prune_backups: with no keep-N option
// above zero the result is just keep-all=1; keep-all=1 together with a
// positive keep-N option is ErrKeepAllWithOthers; keep-all=0 next to a
// positive option is dropped.
func (o Options) Normalize() (Options, error) {
	keepAll := o.KeepAll != nil && *o.KeepAll
	positive := false
	for _, c := range o.counts() {
		if *c.p != nil && **c.p > 0 {
			positive = true
		}
	}
	switch {
	case !positive:
		return Options{KeepAll: Bool(true)}, nil
	case keepAll:
		return Options{}, ErrKeepAllWithOthers
	}
	o.KeepAll = nil
	return o, nil
}

// ErrKeepAllWithOthers is PVE's refusal of keep-all=1 next to a positive
// keep-N option; the text is PVE's own.
var ErrKeepAllWithOthers = errors.New("keep-all cannot be set together with other options.") //nolint:staticcheck // PVE's message

// OptionsError reports a prune-backups property string PVE refuses.
// Keys maps a property key to its message when the string parsed but
// values failed their checks (PVE's "format error" with an errors map).
type OptionsError struct {
	Input string
	Msg   string            // set for a structural error
	Keys  map[string]string // per-key errors
	Err   error             // ErrKeepAllWithOthers, when that is the reason
}

func (e *OptionsError) Unwrap() error { return e.Err }

func (e *OptionsError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("prune-backups %q: %s", e.Input, e.Msg)
	}
	keys := make([]string, 0, len(e.Keys))
	for k := range e.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Keys[k]
	}
	return fmt.Sprintf("prune-backups %q: format error: %s", e.Input, strings.Join(parts, "; "))
}

var (
	partRE    = regexp.MustCompile(`^([^=]+)=(.+)$`)
	integerRE = regexp.MustCompile(`^[+-]?\d+$`)
	trueRE    = regexp.MustCompile(`(?i)^(1|on|yes|true)$`)
	falseRE   = regexp.MustCompile(`(?i)^(0|off|no|false)$`)
)

// ParseOptions parses a prune-backups property string such as
// "keep-daily=7,keep-last=3" as PVE's parse_property_string does with the
// prune-backups format, then applies Normalize (the format's validator), so
// "" and "keep-last=0" give keep-all=1 and "keep-all=1,keep-last=3" is
// ErrKeepAllWithOthers.
func ParseOptions(s string) (Options, error) {
	var o Options
	raw := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		m := partRE.FindStringSubmatch(part)
		switch {
		case m != nil:
			k, v := m[1], m[2]
			if _, dup := raw[k]; dup {
				return Options{}, &OptionsError{Input: s, Msg: "duplicate key in comma-separated list property: " + k}
			}
			if !validKey(k) {
				return Options{}, &OptionsError{Input: s, Msg: "invalid key in comma-separated list property: " + k}
			}
			raw[k] = v
		case !strings.Contains(part, "="):
			return Options{}, &OptionsError{Input: s, Msg: "value without key, but schema does not define a default key"}
		default:
			return Options{}, &OptionsError{Input: s, Msg: "missing key in comma-separated list property"}
		}
	}
	errs := map[string]string{}
	if v, ok := raw["keep-all"]; ok {
		switch {
		case trueRE.MatchString(v):
			o.KeepAll = Bool(true)
		case falseRE.MatchString(v):
			o.KeepAll = Bool(false)
		default:
			errs["keep-all"] = fmt.Sprintf("type check ('boolean') failed - got '%s'", v)
		}
	}
	for _, c := range o.counts() {
		v, ok := raw[c.key]
		if !ok {
			continue
		}
		if !integerRE.MatchString(v) {
			errs[c.key] = fmt.Sprintf("type check ('integer') failed - got '%s'", v)
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs[c.key] = fmt.Sprintf("value '%s' is out of range", v)
			continue
		}
		if n < 0 {
			errs[c.key] = "value must have a minimum value of 0"
			continue
		}
		*c.p = Int(n)
	}
	if len(errs) > 0 {
		return Options{}, &OptionsError{Input: s, Keys: errs}
	}
	n, err := o.Normalize()
	if err != nil {
		return Options{}, &OptionsError{Input: s, Msg: err.Error(), Err: err}
	}
	return n, nil
}

func validKey(k string) bool {
	if k == "keep-all" {
		return true
	}
	var o Options
	for _, c := range o.counts() {
		if c.key == k {
			return true
		}
	}
	return false
}

// String returns the property string of the options that are set, keys
// sorted as PVE's print_property_string sorts them (keep-all first).
// It does not normalize: Options{} prints "".
func (o Options) String() string {
	var parts []string
	if o.KeepAll != nil {
		v := "0"
		if *o.KeepAll {
			v = "1"
		}
		parts = append(parts, "keep-all="+v)
	}
	for _, c := range o.counts() {
		if *c.p != nil {
			parts = append(parts, c.key+"="+strconv.Itoa(**c.p))
		}
	}
	return strings.Join(parts, ",")
}
