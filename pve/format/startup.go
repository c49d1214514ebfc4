package format

import (
	"regexp"
	"strconv"
	"strings"
)

// Startup is the startup value of a container config, such as
// "order=1,up=30,down=60". Its format is pve-common's named format
// pve-startup-order (pve_parse_startup_order), not a format object: order
// may be written bare ("1,up=30"), a repeated key overrides the earlier one,
// and every error is the whole-value message "unable to parse startup
// options".
type Startup struct {
	// Order is order= (the default key), the start order (>= 0).
	Order *int
	// Up is up=, seconds to wait after starting before the next guest.
	Up *int
	// Down is down=, seconds to wait after stopping before the next guest.
	Down *int
}

var (
	startupOrderRE = regexp.MustCompile(`^(?:order=)?(\d+)$`)
	startupUpRE    = regexp.MustCompile(`^up=(\d+)$`)
	startupDownRE  = regexp.MustCompile(`^down=(\d+)$`)
)

// ParseStartup parses a startup value as pve_parse_startup_order does.
// Like PVE, it rejects an empty value and the value "0" (Perl-false).
func ParseStartup(s string) (Startup, error) {
	bad := &Error{Value: s, Msg: "unable to parse startup options"}
	if s == "" || s == "0" {
		return Startup{}, bad
	}
	var st Startup
	for _, part := range perlSplitComma(s) {
		if isBlank(part) {
			continue
		}
		var dst **int
		var m []string
		if m = startupOrderRE.FindStringSubmatch(part); m != nil {
			dst = &st.Order
		} else if m = startupUpRE.FindStringSubmatch(part); m != nil {
			dst = &st.Up
		} else if m = startupDownRE.FindStringSubmatch(part); m != nil {
			dst = &st.Down
		} else {
			return Startup{}, bad
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return Startup{}, bad
		}
		*dst = &n
	}
	return st, nil
}

// String prints s as PVE's web interface writes it (PVE.Parser.printStartup
// in pve-manager): order=, up=, down=, in that order. PVE stores the value
// as sent and never prints it itself; this is the spelling found in real
// configs. A Startup with nothing set prints as "", which PVE rejects: delete
// the key instead.
func (s Startup) String() string {
	var parts []string
	if s.Order != nil {
		parts = append(parts, "order="+strconv.Itoa(*s.Order))
	}
	if s.Up != nil {
		parts = append(parts, "up="+strconv.Itoa(*s.Up))
	}
	if s.Down != nil {
		parts = append(parts, "down="+strconv.Itoa(*s.Down))
	}
	return strings.Join(parts, ",")
}

// Equal reports whether s and o set the same values (bare and order=
// spellings, key order and leading zeros do not matter).
func (s Startup) Equal(o Startup) bool {
	return ptrEqual(s.Order, o.Order) && ptrEqual(s.Up, o.Up) && ptrEqual(s.Down, o.Down)
}
