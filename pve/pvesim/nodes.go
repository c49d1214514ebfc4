package pvesim

// nodeTime is GET /nodes/{node}/time (pve-manager PVE/API2/Nodes.pm
// time): the clock's time, the node's time zone (PVE::Systemd
// get_timezone, timedatectl's Timezone) and localtime, the local wall
// clock read as if it were UTC (timegm_nocheck(localtime($ctime))). A node
// without a time zone in the inventory is on Etc/UTC, Debian's name for
// UTC.
func (s *Sim) nodeTime(r *request) (any, error) {
	n := s.node[r.params["node"]]
	now := s.clock.Now()
	_, offset := now.In(n.loc).Zone()
	tz := n.tz
	if tz == "" {
		tz = "Etc/UTC"
	}
	return map[string]any{"timezone": tz, "time": now.Unix(), "localtime": now.Unix() + int64(offset)}, nil
}

// nodeStatusInfo is GET /nodes/{node}/status (pve-manager
// PVE/API2/Nodes.pm status, Sys.Audit on the node): uptime since the
// node's boot on the clock, loadavg (strings, as read_loadavg reads
// them), the kernel (uname), boot-info, cpuinfo (read_cpuinfo's keys),
// cpu and wait (read_proc_stat), memory, ksm, swap, pveversion
// ("pve-manager/<version>/<repoid>", as /version's) and rootfs. The
// figures are invented.
func (s *Sim) nodeStatusInfo(r *request) (any, error) {
	n := s.node[r.params["node"]]
	machine := "x86_64"
	if n.arch != "" {
		machine = n.arch
	}
	kver := "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)"
	used := n.maxMem / 4
	root := int64(64 << 30)
	return map[string]any{
		"uptime": int64(s.clock.Now().Sub(n.bootTime).Seconds()), "idle": 0,
		"loadavg":        []string{"0.12", "0.08", "0.05"},
		"kversion":       "Linux 6.17.2-1-pve " + kver,
		"current-kernel": map[string]any{"sysname": "Linux", "release": "6.17.2-1-pve", "version": kver, "machine": machine},
		"boot-info":      map[string]any{"mode": "efi", "secureboot": 0},
		"cpuinfo": map[string]any{"model": "Simulated CPU", "vendor": "GenuineIntel", "family": "6", "mhz": "3000.000",
			"cpus": n.maxCPU, "cores": n.maxCPU, "sockets": 1, "user_hz": 100, "hvm": "1", "flags": ""},
		"cpu": 0.03, "wait": 0,
		"memory":     map[string]any{"total": n.maxMem, "used": used, "free": n.maxMem - used, "available": n.maxMem - used},
		"ksm":        map[string]any{"shared": 0},
		"swap":       map[string]any{"total": 0, "used": 0, "free": 0},
		"pveversion": "pve-manager/" + simVersion + "/" + simRepoID,
		"rootfs":     map[string]any{"total": root, "used": root / 8, "avail": root - root/8, "free": root - root/8},
	}, nil
}
