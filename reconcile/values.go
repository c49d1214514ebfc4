package reconcile

import (
	"maps"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/diff"
)

// sameValue reports whether the value PVE shows for key means what felhom
// sent. PVE rewrites some values as it stores them: property strings in its
// own key order (print_ct_mountpoint, print_lxc_network), a new volume
// "storage:size" as the allocated volume with size=, tags normalised, the
// description with a trailing newline. Those are compared by meaning.
func sameValue(key, sent, got string) bool {
	if sent == got {
		return true
	}
	switch {
	case key == "rootfs" || isIndexed(key, "mp"):
		ms, err1 := diff.ParseVolume(key, sent)
		mg, err2 := diff.ParseVolume(key, got)
		if err1 != nil || err2 != nil {
			return false
		}
		if st, size, ok := ms.NewVolume(); ok {
			// A new volume: PVE allocates it; the rest must match.
			gst, _, _ := strings.Cut(mg.Volume, ":")
			if gst != st || mg.Size == nil || *mg.Size < size {
				return false
			}
			ms.Volume, ms.Size = mg.Volume, mg.Size
		}
		return ms.Equal(mg)
	case isIndexed(key, "net"):
		a, err1 := format.ParseNet(sent)
		b, err2 := format.ParseNet(got)
		if err1 != nil || err2 != nil {
			return false
		}
		if a.HWAddr == "" {
			// PVE generates a MAC address when none is given.
			a.HWAddr = b.HWAddr
		}
		return a.Equal(b)
	case key == "features":
		a, err1 := format.ParseFeatures(sent)
		b, err2 := format.ParseFeatures(got)
		return err1 == nil && err2 == nil && a.Equal(b)
	case key == "startup":
		a, err1 := format.ParseStartup(sent)
		b, err2 := format.ParseStartup(got)
		return err1 == nil && err2 == nil && a.Equal(b)
	case key == "tags":
		return sameSet(sent, got)
	case key == "description":
		return strings.TrimRight(sent, "\n") == strings.TrimRight(got, "\n")
	}
	a, err1 := strconv.ParseFloat(sent, 64)
	b, err2 := strconv.ParseFloat(got, 64)
	return err1 == nil && err2 == nil && a == b
}

// sameSet compares PVE lists (tags: split on ';', ',' or space, no case).
func sameSet(a, b string) bool {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, x := range format.SplitWords(s) {
			m[strings.ToLower(x)] = true
		}
		return m
	}
	return maps.Equal(set(a), set(b))
}

// isIndexed reports whether key is prefix followed by digits (mp0, net3).
func isIndexed(key, prefix string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

// volumeSize returns the size= of a rootfs or mpN value.
func volumeSize(key string, v *string) (format.Size, bool) {
	if v == nil {
		return 0, false
	}
	m, err := diff.ParseVolume(key, *v)
	if err != nil || m.Size == nil {
		return 0, false
	}
	return *m.Size, true
}
