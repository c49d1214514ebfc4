package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// PVE's JSON is loosely typed: Perl sends the same field as 1, "1" or true
// depending on version and code path (vmid in GET /nodes/{node}/lxc was a
// string before PVE 7; booleans are 0/1; config values come as numbers or
// strings). The wire types below therefore decode through decodeLenient,
// which accepts a number, a numeric string or a boolean for every scalar
// field and fails only on a shape that cannot be meant (an object for an int).

var timeType = reflect.TypeFor[time.Time]()

// decodeLenient decodes the JSON object data into the struct *dst, matching
// keys to the fields' json tags. Unknown keys are ignored.
//
// A flat object (keys without escapes, each once, scalar values), which is
// what PVE sends for most of them, is read without encoding/json's map of
// copies (decodeFlat); anything else goes through the map. Both set the
// fields in their order and stop at the first error, so the result is the
// same either way.
func decodeLenient(data []byte, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	fields := lenientFields(v.Type())
	if ok, err := decodeFlat(data, v, fields); ok {
		return err
	}
	return decodeLenientMap(data, v, fields)
}

// decodeLenientMap is decodeLenient through a map of the object's members.
func decodeLenientMap(data []byte, v reflect.Value, fields []lenientField) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	for _, f := range fields {
		msg, ok := raw[f.name]
		if !ok {
			continue
		}
		if err := setLenient(v.Field(f.index), msg); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// flatMember is one member of a flat object: its key and value as written.
type flatMember struct{ key, val []byte }

// decodeFlat is decodeLenient for a flat object; ok is false, and v
// untouched, when data is not one.
func decodeFlat(data []byte, v reflect.Value, fields []lenientField) (ok bool, err error) {
	s := jsonScan{b: data}
	if !s.byte('{') {
		return false, nil
	}
	var buf [32]flatMember
	members := buf[:0]
	if !s.byte('}') {
		for {
			s.space()
			key, ok := s.plainString()
			if !ok || !s.byte(':') {
				return false, nil
			}
			s.space()
			val, ok := s.scalar()
			if !ok {
				return false, nil
			}
			for _, m := range members {
				if string(m.key) == string(key) {
					return false, nil // a repeated key: the map's last one wins
				}
			}
			members = append(members, flatMember{key, val})
			if s.byte('}') {
				break
			}
			if !s.byte(',') {
				return false, nil
			}
		}
	}
	if !s.end() {
		return false, nil
	}
	for _, f := range fields {
		for _, m := range members {
			if string(m.key) != f.name {
				continue
			}
			if err := setLenient(v.Field(f.index), m.val); err != nil {
				return true, fmt.Errorf("%s: %w", f.name, err)
			}
			break
		}
	}
	return true, nil
}

// lenientField is a struct field decodeLenient fills: its index and its
// json name.
type lenientField struct {
	index int
	name  string
}

// fieldCache holds lenientFields' answer per struct type: the tags are read
// once, not once per decoded object (felhom plan decodes some 12 objects
// per container).
var fieldCache sync.Map // reflect.Type -> []lenientField

// lenientFields lists t's exported fields with a json name, in order.
func lenientFields(t reflect.Type) []lenientField {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]lenientField)
	}
	var fs []lenientField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fs = append(fs, lenientField{index: i, name: name})
	}
	fieldCache.Store(t, fs)
	return fs
}

// setLenient stores the JSON value msg in v.
func setLenient(v reflect.Value, msg json.RawMessage) error {
	msg = bytes.TrimSpace(msg)
	if string(msg) == "null" {
		return nil
	}
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		if err := setLenient(p.Elem(), msg); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	if v.Type() == timeType {
		n, err := lenientInt(msg)
		if err != nil {
			return err
		}
		if n != 0 {
			v.Set(reflect.ValueOf(time.Unix(n, 0).UTC()))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if !isScalar(msg) {
			return fmt.Errorf("want a string, got %.40s", msg)
		}
		v.SetString(ScalarText(msg))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := lenientInt(msg)
		if err != nil {
			return err
		}
		if v.OverflowInt(n) {
			return fmt.Errorf("%d overflows %s", n, v.Type())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := lenientInt(msg)
		if err != nil {
			return err
		}
		if n < 0 || v.OverflowUint(uint64(n)) {
			return fmt.Errorf("%d out of range for %s", n, v.Type())
		}
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		if !isScalar(msg) {
			return fmt.Errorf("want a number, got %.40s", msg)
		}
		s := strings.TrimSpace(ScalarText(msg))
		if s == "" {
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := lenientBool(msg)
		if err != nil {
			return err
		}
		v.SetBool(b)
	default:
		return json.Unmarshal(msg, v.Addr().Interface())
	}
	return nil
}

func isScalar(msg json.RawMessage) bool {
	return len(msg) > 0 && msg[0] != '{' && msg[0] != '['
}

// ScalarText is the text of a JSON scalar: a string unquoted, a number as
// written, a boolean as "1"/"0" (PVE's spelling of booleans in config
// values). For an object or array it returns the raw JSON.
func ScalarText(msg json.RawMessage) string {
	msg = bytes.TrimSpace(msg)
	switch {
	case len(msg) == 0 || string(msg) == "null":
		return ""
	case msg[0] == '"':
		// Without escapes and in valid UTF-8 a JSON string is its text
		// between the quotes (msg comes from a decoder, so it is valid
		// JSON); else encoding/json unquotes it.
		if len(msg) >= 2 && msg[len(msg)-1] == '"' {
			if inner := msg[1 : len(msg)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
				return string(inner)
			}
		}
		var s string
		if json.Unmarshal(msg, &s) == nil {
			return s
		}
	case string(msg) == "true":
		return "1"
	case string(msg) == "false":
		return "0"
	}
	return string(msg)
}

func lenientInt(msg json.RawMessage) (int64, error) {
	if !isScalar(msg) {
		return 0, fmt.Errorf("want an integer, got %.40s", msg)
	}
	s := strings.TrimSpace(ScalarText(msg))
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, fmt.Errorf("want an integer, got %q", s)
	}
	return int64(f), nil
}

func lenientBool(msg json.RawMessage) (bool, error) {
	if !isScalar(msg) {
		return false, fmt.Errorf("want a boolean, got %.40s", msg)
	}
	switch s := strings.TrimSpace(ScalarText(msg)); s {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false, fmt.Errorf("want a boolean, got %q", s)
		}
		return f != 0, nil
	}
}
