package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// PlanOptions tune Plan.
type PlanOptions struct {
	ObserveOptions
	// Now is the plan's time (default: now).
	Now time.Time
	// Revision names the specs' source revision.
	Revision string
	// Preflight checks, when the plan has changes, that the token holds
	// the privileges the plan needs (one GET /access/permissions) and warns
	// when it does not.
	Preflight bool
	// Root says where the privileged backend may write (the Status of a
	// privileged.Runner); nil: nowhere, and root-only changes are blocked.
	Root diff.Root
	// IgnoreUnmanaged leaves the plan's Unmanaged list empty (felhom plan
	// --unmanaged ignore); by default it lists the containers on PVE that
	// no spec names.
	IgnoreUnmanaged bool
}

// Plan observes the containers the specs name and plans them: Observe, then
// diff.Build, then, for the containers whose diff is not empty, their
// snapshot lists (ObserveSnapshots) and diff again with the baseline and
// the snapshots known, then (when asked and there are changes) Preflight.
// An unchanged container so costs one call (GET .../pending): without
// differences neither drift marks nor snapshot retention can change its
// plan.
func Plan(ctx context.Context, api API, specs []spec.Container, opts PlanOptions) (*plan.Plan, error) {
	o, err := observe(ctx, api, specs, opts.ObserveOptions)
	if err != nil {
		return nil, err
	}
	live := o.live
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	nodes, err := specNodes(ctx, api, specs, live)
	if err != nil {
		return nil, err
	}
	dopts := diff.Options{Now: opts.Now, Revision: opts.Revision, Root: opts.Root, Nodes: nodes, Creates: o.creates}
	p := diff.Build(specs, live, dopts)
	if again := needSnapshots(p, live); len(again) > 0 {
		ObserveSnapshots(ctx, api, again, opts.Concurrency)
		redo := make(map[int]bool, len(again))
		for _, l := range again {
			redo[l.VMID] = true
		}
		bySpec := make(map[int]*spec.Container, len(again))
		for i := range specs {
			if redo[specs[i].Spec.VMID] {
				bySpec[specs[i].Spec.VMID] = &specs[i]
			}
		}
		for i, c := range p.Containers {
			if redo[c.VMID] && bySpec[c.VMID] != nil {
				p.Containers[i] = diff.Diff(bySpec[c.VMID], live[c.VMID], dopts)
			}
		}
		p.Sort()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("observe: %w", err)
		}
	}
	if !opts.IgnoreUnmanaged {
		p.Unmanaged = o.unmanaged
	}
	if opts.Preflight && p.HasChanges() {
		if err := Preflight(ctx, api, p); err != nil {
			p.Warnings = append(p.Warnings, "could not check the token's privileges: "+err.Error())
		}
	}
	return p, nil
}

// needSnapshots lists the observed containers whose first plan (made
// without their snapshot lists) is not empty: changes, steps or reasons
// it is blocked.
func needSnapshots(p *plan.Plan, live map[int]*diff.Live) []*diff.Live {
	var out []*diff.Live
	for _, c := range p.Containers {
		l := live[c.VMID]
		if l == nil || l.Err != "" || (len(c.Changes) == 0 && len(c.Steps) == 0 && c.Status != plan.StatusChanges && c.Status != plan.StatusBlocked) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// specNodes returns the cluster's node names when a spec names a node no
// observed container is on (one GET /nodes), so diff can tell a node that
// does not exist from a container that migrated; nil when every spec's
// node is known to exist, which costs no call.
func specNodes(ctx context.Context, api API, specs []spec.Container, live map[int]*diff.Live) ([]string, error) {
	seen := map[string]bool{}
	for _, l := range live {
		seen[l.Node] = true
	}
	unknown := slices.ContainsFunc(specs, func(c spec.Container) bool { return c.Spec.Node != "" && !seen[c.Spec.Node] })
	if !unknown {
		return nil, nil
	}
	list, err := api.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("observe: nodes: %w", err)
	}
	names := make([]string, 0, len(list))
	for _, n := range list {
		names = append(names, n.Node)
	}
	slices.Sort(names)
	return names, nil
}

// Preflight reads the token's privileges (GET /access/permissions) and adds
// a warning to p for every privilege a container with changes needs and the
// token lacks, so that apply's 403 is foreseen.
func Preflight(ctx context.Context, api API, p *plan.Plan) error {
	perms, err := api.Permissions(ctx, "")
	if err != nil {
		return err
	}
	for _, c := range p.Containers {
		if c.Status != plan.StatusChanges {
			continue
		}
		if missing := missingPrivileges(perms, &c); len(missing) > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("ct %d %s: the API token lacks %s", c.VMID, c.Name, strings.Join(missing, ", ")))
		}
	}
	return nil
}

// missingPrivileges lists the privileges c needs that perms does not grant,
// as "NAME on PATH".
func missingPrivileges(perms pve.Permissions, c *plan.ContainerPlan) []string {
	var missing []string
	for _, pr := range c.Privileges {
		if !HasPrivilege(perms, pr.Path, pr.Name) {
			missing = append(missing, pr.Name+" on "+pr.Path)
		}
	}
	return missing
}

// preflightRefusals reads the token's privileges and returns, by VMID, what
// each container with changes needs and the token lacks; nil when the read
// fails (apply then meets PVE's own 403, which is safe, only later).
func preflightRefusals(ctx context.Context, api API, p *plan.Plan) map[int][]string {
	if !p.HasChanges() {
		return nil
	}
	perms, err := api.Permissions(ctx, "")
	if err != nil {
		return nil
	}
	out := map[int][]string{}
	for i := range p.Containers {
		c := &p.Containers[i]
		if c.Status != plan.StatusChanges {
			continue
		}
		if missing := missingPrivileges(perms, c); len(missing) > 0 {
			out[c.VMID] = missing
		}
	}
	return out
}

// HasPrivilege reports whether perms grants priv on path: held on path
// itself, or on the nearest listed ancestor with propagation (PVE's ACLs
// propagate down the path tree: /vms to /vms/101).
func HasPrivilege(perms pve.Permissions, path, priv string) bool {
	p := path
	for {
		if set, ok := perms[p]; ok {
			if prop, held := set[priv]; held && (p == path || prop) {
				return true
			}
		}
		if p == "/" || p == "" {
			return false
		}
		i := strings.LastIndex(p, "/")
		if i <= 0 {
			p = "/"
		} else {
			p = p[:i]
		}
	}
}

// Moved is a container whose config changed since a plan was made.
type Moved struct {
	VMID         int
	Name         string
	Planned, Now string // digests
}

// CheckDigests re-reads the digest of every container the plan changes and
// lists those whose config moved since the plan was made (a saved plan is
// then stale). A container locked right now is not judged: the lock itself
// changes the digest, and apply waits it out before comparing.
func CheckDigests(ctx context.Context, api API, p *plan.Plan, concurrency int) ([]Moved, error) {
	var todo []plan.ContainerPlan
	for _, c := range p.Containers {
		if c.Status == plan.StatusChanges && !c.Creates() {
			// A container the plan creates has no config to compare:
			// apply asks PVE whether its vmid is still free (NextID).
			todo = append(todo, c)
		}
	}
	moved := make([]*Moved, len(todo))
	errs := make([]error, len(todo))
	forEachSpread(len(todo), concurrency, func(i int) string { return todo[i].Node }, func(i int) {
		c := todo[i]
		pc, err := api.Pending(ctx, c.Node, c.VMID)
		if err != nil {
			errs[i] = err
			return
		}
		if lockOf(pc) == "" && pc.Digest != c.Digest {
			moved[i] = &Moved{VMID: c.VMID, Name: c.Name, Planned: c.Digest, Now: pc.Digest}
		}
	})
	var out []Moved
	for i := range todo {
		if errs[i] != nil {
			return nil, fmt.Errorf("check digests: %w", errs[i])
		}
		if moved[i] != nil {
			out = append(out, *moved[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out, nil
}
