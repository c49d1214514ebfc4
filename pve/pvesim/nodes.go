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
