// Package privileged is felhom's fenced root backend: it makes the container
// config changes that PVE lets only root@pam make, by running `pct set` on the
// node felhom runs on, as root.
//
// PVE's API refuses these keys to every API token, whatever its privileges
// (pve-container src/PVE/LXC.pm check_ct_modify_config_perm returns early only
// for root@pam and raises a permission error for each of them): bind and
// device mount points (mpN whose volume is a host path), devN passthrough,
// features other than nesting (all features on a privileged container), and
// the hookscript. ops.go lists each operation with the check that makes it
// root-only.
//
// What it does, and nothing more:
//
//   - It runs one program, the configured pct (default /usr/sbin/pct), with
//     the sub-command set and an argv built from checked values; never a
//     shell, never another sub-command. `pct set` calls the same update_vm
//     the API's PUT config calls (pve-container src/PVE/CLI/pct.pm maps set
//     to PVE::API2::LXC::Config update_vm with the local node), as
//     root@pam, so PVE's own validation, locks and pending rules hold.
//   - Every value is parsed by pve/format before it is passed, and every
//     call carries the config digest (--digest), so a config that moved
//     since the plan is refused by PVE as an API write would be.
//   - Every run has a timeout and is logged (argv, duration, exit status);
//     the environment, where a secret could sit, is never logged. A failure
//     is an *ExecError holding PVE's message as pct printed it.
//   - It runs only when the configuration enables it and felhom runs as
//     root (uid 0) on the very node the container is on, as PVE names that
//     node; Runner.Available says why not otherwise, and what would enable
//     it. The check is Host, injectable for tests.
//
// Raw lxc.* keys (lxc.idmap and the like) are not among its operations:
// `pct set` has no option for them (update_vm's parameters are the
// $confdesc options; PVE reads lxc.* only from the config file), so they
// would need an edit of /etc/pve/lxc/VMID.conf, which felhom does not make.
//
// The fence: this package never speaks HTTP and imports neither net nor
// net/http (internal/fence's test over `go list -deps` proves it); the pve
// package never runs a process. PVE's values it shares with the client are
// in the pure pve/wire.
package privileged
