package pvesim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// The pct stand-in: `pct set` as root@pam runs it on a node, for felhom's
// privileged backend, which runs pct and never speaks HTTP. felhom's `sim pct`
// command (or the felhom binary called as pct) sends its argv to the control
// endpoint (POST /_felhom/sim/pct) and prints what comes back; Sim.Pct is the
// same in Go.
//
// What it models (pve-container src/PVE/CLI/pct.pm; pve-common
// src/PVE/CLIHandler.pm, RESTHandler.pm cli_handler, JSONSchema.pm
// get_options, Exception.pm stringify):
//
//   - pct's set is PVE::API2::LXC::Config update_vm with node fixed to the
//     local node (PVE::INotify::nodename) and the RPC environment's user
//     root@pam (run_cli_handler: set_user('root@pam')), so
//     check_ct_modify_config_perm returns at once: bind and device mount
//     points, devN, every feature flag and the hookscript are allowed; the
//     rest of update_vm holds as for the API (parameter checks, the digest,
//     locks, hotplug or pending).
//   - The command line is `set <vmid> [--option value]...` (also -option
//     and --option=value, as Getopt::Long takes them); an unknown option is
//     Getopt's "Unknown option: x" then "400 unable to parse option".
//   - A container on another node is not found: the config is read from
//     the local node's directory ("Configuration file
//     'nodes/pve1/lxc/N.conf' does not exist").
//   - An error is printed to stderr as Exception.pm stringify prints it:
//     "400 Parameter verification failed.\n" with one "param: reason" line
//     per parameter (sorted here; Perl's hash order is random) and, for
//     parameter errors, the usage line "pct set <vmid> [OPTIONS]"; a plain
//     die is its message. The exit status is Perl's for an uncaught die,
//     255. Success prints nothing and exits 0.
//   - A devN path must be a device of the host (hostDevices: a fixed set
//     of common device nodes); the hookscript's script is not looked for
//     (the simulator has no files).
//
// Only set is modelled; any other sub-command is refused with exit 255.

// hostDevices are the device nodes every simulated node has, as
// get_device_mode_and_rdev sees them: true for a block or character
// device, false for a path that exists but is not one.
var hostDevices = map[string]bool{
	"/dev/null": true, "/dev/zero": true, "/dev/full": true, "/dev/random": true, "/dev/urandom": true,
	"/dev/tty": true, "/dev/fuse": true, "/dev/net/tun": true, "/dev/kvm": true,
	"/dev/dri": false, "/dev/dri/card0": true, "/dev/dri/renderD128": true,
	"/dev/ttyUSB0": true, "/dev/ttyACM0": true,
	"/dev/sda": true, "/dev/sdb": true, "/dev/sdb1": true, "/dev/nvme0n1": true,
	"/dev/disk": false, "/dev/net": false,
}

// checkDevices is update_pct_config's check of each devN it sets
// (pve-container src/PVE/LXC/Config.pm; src/PVE/LXC/Tools.pm
// get_device_mode_and_rdev): the path must be a device of the host.
func checkDevices(set map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if !isIndexed(k, "dev") {
			continue
		}
		d, err := format.ParseDev(set[k])
		if err != nil {
			continue // parameter validation refused it already
		}
		if d.Path == "" {
			return errorf("Path is not defined for passthrough device %s at /usr/share/perl5/PVE/LXC/Config.pm line 1379.", k)
		}
		isDev, exists := hostDevices[d.Path]
		switch {
		case !exists:
			return errorf("Device %s does not exist", d.Path)
		case !isDev:
			return errorf("%s is not a device", d.Path)
		}
	}
	return nil
}

// PctResult is what a pct run printed and its exit status.
type PctResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
}

const pctSetUsage = "pct set <vmid> [OPTIONS]\n"

// Pct runs pct with args on node as root@pam would.
func (s *Sim) Pct(node string, args []string) PctResult {
	if len(args) == 0 || args[0] != "set" {
		cmd := ""
		if len(args) > 0 {
			cmd = args[0]
		}
		return PctResult{Stderr: fmt.Sprintf("unknown command 'pct %s' (the simulator's pct knows only set)\n", cmd), Exit: 255}
	}
	args = args[1:]
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return PctResult{Stderr: "400 not enough arguments\n" + pctSetUsage, Exit: 255}
	}
	params := map[string]string{"vmid": args[0], "node": node}
	var warn strings.Builder
	extra := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			name, ok = strings.CutPrefix(a, "-")
		}
		if !ok || name == "" {
			extra = true // left in @ARGV by Getopt
			continue
		}
		name, value, inline := strings.Cut(name, "=")
		if !pctSetOption(name) {
			fmt.Fprintf(&warn, "Unknown option: %s\n", name)
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				fmt.Fprintf(&warn, "Option %s requires an argument\n", name)
				continue
			}
			i++
			value = args[i]
		}
		params[name] = value
	}
	switch {
	case warn.Len() > 0:
		return PctResult{Stderr: warn.String() + "400 unable to parse option\n" + pctSetUsage, Exit: 255}
	case extra:
		return PctResult{Stderr: "400 too many arguments\n" + pctSetUsage, Exit: 255}
	}
	rt, _ := findRoute(http.MethodPut, "/nodes/{node}/lxc/{vmid}/config")
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs := validate(rt.params, params); errs != nil {
		return PctResult{Stderr: pctParamError(errs) + pctSetUsage, Exit: 255}
	}
	root := &request{params: params, authID: "root@pam", token: &simToken{user: "root@pam"}, root: true}
	settled := s.settle()
	_, err := s.putConfig(root)
	if settled || err == nil {
		s.persist()
	}
	if err != nil {
		he := asHTTPError(err)
		if he.status == http.StatusBadRequest {
			return PctResult{Stderr: pctParamError(he.errors), Exit: 255}
		}
		return PctResult{Stderr: he.msg + "\n", Exit: 255}
	}
	return PctResult{}
}

// pctSetOption reports whether name is an option of pct set: a parameter
// of update_vm other than the fixed node and the positional vmid.
func pctSetOption(name string) bool {
	if name == "node" || name == "vmid" {
		return false
	}
	rt, _ := findRoute(http.MethodPut, "/nodes/{node}/lxc/{vmid}/config")
	for _, p := range rt.params {
		if p.count > 0 {
			if i, ok := indexOf(name, strings.TrimSuffix(p.name, "[n]")); ok && i < p.count {
				return true
			}
			continue
		}
		if p.name == name {
			return true
		}
	}
	return false
}

func pctParamError(errs map[string]string) string {
	var b strings.Builder
	b.WriteString("400 Parameter verification failed.\n")
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.TrimRight(errs[k], "\n"))
	}
	return b.String()
}

// servePct is POST /_felhom/sim/pct {"node":"pve1","args":["set","101",...]}:
// Sim.Pct over the control endpoint, answered as a PctResult.
func (s *Sim) servePct(w http.ResponseWriter, body []byte) {
	var in struct {
		Node string   `json:"node"`
		Args []string `json:"args"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	known := s.node[in.Node] != nil
	s.mu.Unlock()
	if !known {
		controlError(w, http.StatusBadRequest, fmt.Sprintf("no node %q in the simulator", in.Node))
		return
	}
	controlReply(w, http.StatusOK, s.Pct(in.Node, in.Args))
}
