package diff

import (
	"strconv"

	"github.com/felhom/felhom/pve/format"
)

// canons are the option keys diff compares as one field, each with the
// canonical form that diff's options and SameValue both compare.
var canons = map[string]canonFunc{
	"hostname":     stringCanon,
	"memory":       mibCanon(defaultMemoryMiB),
	"swap":         mibCanon(defaultSwapMiB),
	"cores":        intCanon(""),
	"cpulimit":     cpulimitCanon,
	"cpuunits":     intCanon(strconv.Itoa(defaultCPUUnits)),
	"onboot":       boolCanon,
	"protection":   boolCanon,
	"description":  descriptionCanon,
	"nameserver":   listCanon,
	"searchdomain": listCanon,
	"tags":         tagsCanon,
}

// SameValue reports whether the value PVE shows for config key means what
// felhom sent, by the comparison the diff makes: apply's read-back (verify)
// asks it. PVE rewrites some values as it stores them: property strings in
// its own key order (print_ct_mountpoint, print_lxc_network), a new volume
// "storage:size" as the allocated volume with size=, a generated hwaddr,
// tags normalised, the description with a trailing newline.
func SameValue(key, sent, got string) bool {
	if sent == got {
		return true
	}
	if canon, ok := canons[key]; ok {
		a, _, err1 := canon(sent, true)
		b, _, err2 := canon(got, true)
		return err1 == nil && err2 == nil && a == b
	}
	switch {
	case key == "rootfs" || format.IsSlot(key, "mp"):
		ms, err1 := parseMount(key == "rootfs", sent)
		mg, err2 := parseMount(key == "rootfs", got)
		if err1 != nil || err2 != nil {
			return false
		}
		if st, size, ok := ms.NewVolume(); ok {
			// A new volume: PVE allocates it; the rest must match.
			if volumeStorage(mg.Volume) != st || mg.Size == nil || *mg.Size < size {
				return false
			}
			ms.Volume, ms.Size = mg.Volume, mg.Size
		}
		if ms.Size == nil {
			// An existing volume attached without a size: PVE writes the
			// size it reads from the storage (pve-container
			// apply_pending_mountpoint's $rescan_volume).
			ms.Size = mg.Size
		}
		return ms.Equal(mg)
	case format.IsSlot(key, "net"):
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
	case format.IsSlot(key, "dev"):
		a, err1 := format.ParseDev(sent)
		b, err2 := format.ParseDev(got)
		return err1 == nil && err2 == nil && a.Equal(b)
	case key == "features":
		a, err1 := format.ParseFeatures(sent)
		b, err2 := format.ParseFeatures(got)
		return err1 == nil && err2 == nil && a.Equal(b)
	case key == "startup":
		a, err1 := format.ParseStartup(sent)
		b, err2 := format.ParseStartup(got)
		return err1 == nil && err2 == nil && a.Equal(b)
	}
	a, err1 := strconv.ParseFloat(sent, 64)
	b, err2 := strconv.ParseFloat(got, 64)
	return err1 == nil && err2 == nil && a == b
}
