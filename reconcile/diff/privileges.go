package diff

import (
	"fmt"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
)

// What the plan asks of the API token, and of the privileged backend.

// need records the privileges use asks for (plan.Needs): scope is its
// storage, volume or SDN path, "" for the container's own.
func (d *differ) need(use plan.Use, scope string) {
	for _, p := range plan.Needs(use, d.s.VMID, scope) {
		d.privs[p] = true
	}
}

// rootAccess says whether the privileged backend may write this container
// (Options.Root on its node): nil, or why not and what would enable it.
func (d *differ) rootAccess() error {
	if d.opts.Root == nil {
		return fmt.Errorf("the privileged backend is not enabled (set privileged.enabled: true in felhom's config and run felhom as root on node %s)", d.live.Node)
	}
	return d.opts.Root.For(d.live.Node)
}

// keyPrivilege records what PVE's check_ct_modify_config_perm asks of an API
// token for writing key (pve-semantics §4). Root-only keys are handled
// before this.
func (d *differ) keyPrivilege(key string) {
	switch {
	case key == "memory" || key == "swap":
		d.need(plan.UseSetMemory, "")
	case key == "cores" || key == "cpulimit" || key == "cpuunits":
		d.need(plan.UseSetCPU, "")
	case format.IsSlot(key, "net") || key == "nameserver" || key == "searchdomain" || key == "hostname":
		d.need(plan.UseSetNetwork, "")
	case key == "rootfs" || format.IsSlot(key, "mp"):
		d.need(plan.UseSetDisk, "")
	case key == "features":
		// Only nesting on an unprivileged container gets here (the rest is
		// root-only).
		d.need(plan.UseSetNesting, "")
	default:
		d.need(plan.UseSetOptions, "")
	}
}
