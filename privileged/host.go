package privileged

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Host says who felhom runs as and on which PVE node. LocalHost reads the
// real machine; tests hand in their own.
type Host struct {
	// UID returns the effective user id.
	UID func() int
	// NodeName returns the local node's name as PVE knows it.
	NodeName func() (string, error)
}

// LocalHost is the machine felhom runs on: the effective uid, and the node
// name PVE uses for it.
func LocalHost() Host {
	return Host{UID: os.Geteuid, NodeName: func() (string, error) { return NodeName("/etc/pve", os.Hostname) }}
}

// NodeName returns the name PVE gives the local node. pmxcfs links
// pveDir/local to nodes/NAME, so that link is asked first; without it (the
// cluster file system not mounted) PVE::INotify::nodename's rule is used:
// the host name up to its first dot. hostname is os.Hostname in production.
func NodeName(pveDir string, hostname func() (string, error)) (string, error) {
	if target, err := os.Readlink(filepath.Join(pveDir, "local")); err == nil {
		if dir, name := filepath.Split(filepath.Clean(target)); filepath.Base(filepath.Clean(dir)) == "nodes" && name != "" {
			return name, nil
		}
		return "", fmt.Errorf("%s/local points to %q, not nodes/NAME", pveDir, target)
	}
	h, err := hostname()
	if err != nil {
		return "", fmt.Errorf("host name: %w", err)
	}
	name, _, _ := strings.Cut(h, ".")
	if name == "" {
		return "", fmt.Errorf("host name %q is empty", h)
	}
	return name, nil
}
