package format

import "strings"

// Error reports a value that does not follow PVE's format. Key names the
// offending property-string key ("size", "mp"); it is empty when the whole
// value is at fault (a bad size, a part without '=' where the format has no
// default key). Value is the offending text (the key's value, or the whole
// value when Key is empty or the key is unknown). Msg is worded as PVE words
// it (pve-common PVE::JSONSchema parse_property_string, check_prop,
// check_type and the format validators), without a trailing newline.
type Error struct {
	Key   string
	Value string
	Msg   string
	// More holds the other bad keys of the same value, in key order: PVE's
	// check_object reports every bad key at once.
	More []*Error

	// parse is set for errors that PVE raises with die while splitting the
	// string (unknown or duplicate key, missing key): their Msg is the whole
	// message, not a per-key entry of a "format error".
	parse bool
}

// Error returns "key: msg" for a per-key problem, otherwise Msg; further
// bad keys follow, separated by "; ".
func (e *Error) Error() string {
	msg := e.Msg
	if e.Key != "" && !e.parse {
		msg = e.Key + ": " + e.Msg
	}
	for _, m := range e.More {
		msg += "; " + m.Error()
	}
	return msg
}

// PVEMessage returns the text PVE puts in the per-parameter errors map of a
// 400 "Parameter verification failed." for a bad value of parameter param
// (such as "rootfs" or "net0"): check_prop prefixes "invalid format - " to
// what parse_property_string raised, which is either a plain message
// ("invalid key in comma-separated list property: x") or a "format error"
// whose per-key lines read "<param>.<key>: <msg>" (PVE::Exception
// stringify), one line per bad key (PVE's order is Perl's hash order; here
// it is key order). Like PVE's, each entry ends with a newline (two when a
// key's format validator died).
func (e *Error) PVEMessage(param string) string {
	var b strings.Builder
	b.WriteString("invalid format - ")
	if e.Key == "" || e.parse {
		b.WriteString(e.Msg)
		b.WriteString("\n")
		return b.String()
	}
	b.WriteString("format error\n")
	for _, k := range append([]*Error{e}, e.More...) {
		if param != "" {
			b.WriteString(param)
			b.WriteString(".")
		}
		b.WriteString(k.Key)
		b.WriteString(": ")
		b.WriteString(k.Msg)
		if strings.HasPrefix(k.Msg, "invalid format - ") {
			// A format validator's die message keeps its own newline
			// inside check_prop's "invalid format - $@".
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}
