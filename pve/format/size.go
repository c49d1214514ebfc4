package format

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Size is a byte count. PVE's disk sizes use K, M, G and T as powers of 1024
// and allow fractions ("1.5G"); a fractional byte count is truncated, as
// pve-common PVE::JSONSchema::parse_size does with int().
type Size int64

// Binary size units.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

// pveSizeRE is the disk-size syntax of PVE::JSONSchema::parse_size; the
// KiB/MiB/GiB/TiB spellings are accepted since pve-common 9.0.9 (commit
// b6bfb5f, "schema: support sizes with verbose suffixes").
var pveSizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:([KMGT])(?:iB)?)?$`)

// lenientSizeRE adds lowercase units and the KiB/MiB/GiB/TiB spellings.
var lenientSizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:([KMGTkmgt])(?:[iI][bB])?)?$`)

// newVolumeSizeRE is the SIZE part of pve-container's NEW_DISK_RE
// ^([^:\s]+):(\d+(\.\d+)?)$.
var newVolumeSizeRE = regexp.MustCompile(`^\d+(?:\.\d+)?$`)

func unitOf(u string) Size {
	switch strings.ToUpper(u) {
	case "K":
		return KiB
	case "M":
		return MiB
	case "G":
		return GiB
	case "T":
		return TiB
	}
	return 1
}

// scale returns int(num * unit) computed exactly, or false when the result
// does not fit in an int64.
//
// A whole number of up to 18 digits whose product fits (nearly every size
// written) is multiplied in int64, exactly as the rationals would; felhom
// plan parses some 5 sizes per container. Anything else goes to scaleRat.
func scale(num string, unit Size) (Size, bool) {
	if len(num) > 0 && len(num) <= 18 && unit > 0 && strings.Trim(num, "0123456789") == "" {
		n, err := strconv.ParseInt(num, 10, 64)
		if err == nil && n <= int64(math.MaxInt64/unit) {
			return Size(n) * unit, true
		}
	}
	return scaleRat(num, unit)
}

// scaleRat is scale in exact rational arithmetic.
func scaleRat(num string, unit Size) (Size, bool) {
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(unit)))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, false
	}
	return Size(q.Int64()), true
}

// ParseSize parses a size as a user writes it: a bare number is bytes (as in
// the size parameter of PUT /nodes/{node}/lxc/{vmid}/resize); K, M, G, T
// (also lowercase, and as KiB, MiB, GiB, TiB) are powers of 1024; fractions
// are allowed ("1.5G"). The error names the value.
func ParseSize(s string) (Size, error) {
	m := lenientSizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, &Error{Value: s, Msg: "value '" + s + "' is not a valid size (want a number with an optional unit K, M, G, T or KiB, MiB, GiB, TiB)"}
	}
	v, ok := scale(m[1], unitOf(m[2]))
	if !ok {
		return 0, &Error{Value: s, Msg: "value '" + s + "' is too large"}
	}
	return v, nil
}

// ParseDiskSize parses a size strictly as PVE's disk-size format (size= in
// rootfs and mpN) does (PVE::JSONSchema::parse_size): \d+(\.\d+)? with an
// optional unit K, M, G, T, KiB, MiB, GiB or TiB, case-sensitive; a bare
// number is bytes. The message is pve_verify_disk_size's.
func ParseDiskSize(s string) (Size, error) {
	m := pveSizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, &Error{Value: s, Msg: "value does not look like a valid disk size: " + s}
	}
	v, ok := scale(m[1], unitOf(m[2]))
	if !ok {
		return 0, &Error{Value: s, Msg: "value does not look like a valid disk size: " + s}
	}
	return v, nil
}

// ParseNewVolumeSize parses the SIZE of the new-volume form STORAGE:SIZE of
// rootfs and mpN: a bare number of GiB, fractions allowed. pve-container
// (PVE::LXC::create_disks) allocates int(SIZE*1024) MiB, so the result is
// truncated to whole MiB.
func ParseNewVolumeSize(s string) (Size, error) {
	if !newVolumeSizeRE.MatchString(s) {
		return 0, &Error{Value: s, Msg: "value '" + s + "' is not a valid new volume size (want a number of GiB such as 8 or 0.5)"}
	}
	mib, ok := scale(s, 1024)
	if !ok || mib > Size(1<<63-1)/MiB {
		return 0, &Error{Value: s, Msg: "value '" + s + "' is too large"}
	}
	return mib * MiB, nil
}

// String returns the size as PVE writes size= (PVE::JSONSchema::format_size):
// the largest of T, G, M, K that divides it exactly, else a plain byte count.
// Like PVE, zero prints as "0T".
func (s Size) String() string {
	if s < 0 {
		return strconv.FormatInt(int64(s), 10)
	}
	for _, u := range []struct {
		unit Size
		name string
	}{{TiB, "T"}, {GiB, "G"}, {MiB, "M"}, {KiB, "K"}} {
		if s%u.unit == 0 {
			return strconv.FormatInt(int64(s/u.unit), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// GiBString returns the size in GiB for the new-volume form STORAGE:SIZE:
// an integer when it is a whole number of GiB, else the exact decimal
// fraction ("1.5", "0.0009765625" for 1 MiB).
func (s Size) GiBString() string {
	r := new(big.Rat).SetFrac(big.NewInt(int64(s)), big.NewInt(int64(GiB)))
	if r.IsInt() {
		return r.Num().String()
	}
	// s/2^30 has at most 30 decimal places.
	out := strings.TrimRight(r.FloatString(30), "0")
	return strings.TrimSuffix(out, ".")
}
