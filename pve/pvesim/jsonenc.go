package pvesim

import (
	"encoding/json"
	"math"
	"strconv"
)

// rawJSON is a handler's answer already encoded: writeData sends it as
// the data member without encoding it again.
type rawJSON []byte

// jsonEnc appends JSON to a buffer, each value as encoding/json encodes
// the same Go value (strings HTML-escaped, floats in its format), so an
// answer written with it has the bytes json.Marshal would give the map it
// replaces when the keys are written in sorted order. It is for the
// listings that hold thousands of entries (GET /cluster/resources),
// where building and sorting a map per entry cost most of the call.
type jsonEnc struct {
	b     []byte
	comma bool // a value was written: the next member or element needs a comma
	err   error
}

// open starts an object ('{') or array ('[') as a value.
func (e *jsonEnc) open(c byte) {
	e.sep()
	e.b = append(e.b, c)
}

// close ends the object or array.
func (e *jsonEnc) close(c byte) {
	e.b = append(e.b, c)
	e.comma = true
}

func (e *jsonEnc) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
	e.comma = false
}

// key starts an object member; k is a constant key that needs no escape.
func (e *jsonEnc) key(k string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *jsonEnc) str(k, v string) {
	e.key(k)
	e.string(v)
}

func (e *jsonEnc) int(k string, v int64) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
	e.comma = true
}

func (e *jsonEnc) float(k string, v float64) {
	e.key(k)
	// encoding/json floatEncoder: 'f' formatting for 1e-6 <= |v| < 1e21,
	// which is every figure here; anything else (exponents, NaN) is left
	// to encoding/json itself.
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) || math.IsNaN(v) {
		e.marshal(v)
		return
	}
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 && !math.Signbit(v) {
		e.b = strconv.AppendInt(e.b, int64(v), 10) // 'f' formatting's digits of a whole number
	} else {
		e.b = strconv.AppendFloat(e.b, v, 'f', -1, 64)
	}
	e.comma = true
}

// value appends v, an array element, as json.Marshal encodes it (for the
// few entries not worth their own encoder).
func (e *jsonEnc) value(v any) {
	e.sep()
	e.marshal(v)
}

func (e *jsonEnc) marshal(v any) {
	b, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.b = append(e.b, b...)
	e.comma = true
}

// string appends s quoted. Printable ASCII other than the characters
// encoding/json escapes (" \ < > &) is copied; anything else goes
// through encoding/json (control characters, non-ASCII, U+2028, invalid
// UTF-8).
func (e *jsonEnc) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e.marshal(s)
			return
		}
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
	e.comma = true
}
