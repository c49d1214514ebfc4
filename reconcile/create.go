package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/diff"
	"github.com/felhom/felhom/reconcile/plan"
)

// errVMIDTaken marks a create whose vmid a guest took since the plan.
var errVMIDTaken = errors.New("the vmid was taken since the plan was made")

// ReadSecretFile reads a secret from a file on felhom's machine (the root
// password of a create): its content without a trailing newline. An empty
// file is an error.
func ReadSecretFile(path string) (pve.Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return pve.Secret(s), nil
}

// createCT is the create or restore step: it checks that the vmid is still
// free (GET /cluster/nextid?vmid=N), reads the password file, then creates
// or restores the container and awaits the task. Nothing is created when
// any of that fails before the call; a task that fails leaves no container
// (create_vm destroys what it made), which apply reads back to say so.
func (a *applier) createCT(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp, p := a.cp, st.Params
	if err := a.vmidFree(ctx); err != nil {
		return err
	}
	read := a.opts.ReadSecret
	if read == nil {
		read = ReadSecretFile
	}
	var password pve.Secret
	if f := p[diff.PasswordFileParam]; f != "" {
		s, err := read(f)
		if err != nil {
			return fmt.Errorf("password file %s: %w; nothing was created", f, err)
		}
		password = s
	}
	set := map[string]string{}
	for k, v := range p {
		switch k {
		case "vmid", "ostemplate", "storage", "restore", "unique", "unprivileged", "ssh-public-keys", diff.PasswordFileParam:
		default:
			set[k] = v
		}
	}
	var upid pve.UPID
	var err error
	if st.Action == plan.ActionRestore {
		if u := p["unprivileged"]; u != "" {
			set["unprivileged"] = u
		}
		upid, err = a.api.Restore(ctx, cp.Node, pve.RestoreOptions{VMID: cp.VMID, Archive: p["ostemplate"], Storage: p["storage"],
			Unique: p["unique"] == "1", Set: set})
	} else {
		o := pve.CreateOptions{VMID: cp.VMID, Template: p["ostemplate"], Storage: p["storage"], Password: password,
			SSHPublicKeys: p["ssh-public-keys"], Set: set}
		if u := p["unprivileged"]; u != "" {
			b := u == "1"
			o.Unprivileged = &b
		}
		upid, err = a.api.Create(ctx, cp.Node, o)
	}
	if err != nil {
		return fmt.Errorf("%w; nothing was created", err)
	}
	if err := a.await(ctx, upid, sr); err != nil {
		if _, rerr := a.api.Pending(ctx, cp.Node, cp.VMID); rerr != nil && errors.Is(rerr, pve.ErrNotFound) {
			return fmt.Errorf("%w; PVE left no container", err)
		}
		// The container is there (a task whose end was not seen, or
		// one that failed after PVE wrote the config): it is reported
		// as changed.
		a.wrote = true
		return fmt.Errorf("%w; the container exists: check it before planning again", err)
	}
	a.wrote = true
	return nil
}

// vmidFree asks PVE whether the container's vmid is still free: a guest
// that took it since the plan (a container or a VM) is an error naming it,
// and nothing is created.
func (a *applier) vmidFree(ctx context.Context) error {
	vmid := a.cp.VMID
	id, err := a.api.NextID(ctx, vmid)
	if err == nil && id == vmid {
		return nil
	}
	var ae *pve.APIError
	if err != nil && !errors.As(err, &ae) {
		return fmt.Errorf("check that vmid %d is free: %w; nothing was created", vmid, err)
	}
	holder := "a guest"
	if res, rerr := a.api.ClusterResources(ctx, "vm"); rerr == nil {
		for _, r := range res {
			if r.VMID == vmid {
				kind := "CT"
				if r.Type == "qemu" {
					kind = "VM"
				}
				holder = fmt.Sprintf("%s %d (%s) on node %s", kind, vmid, r.Name, r.Node)
			}
		}
	}
	why := ""
	if err != nil {
		why = " (" + err.Error() + ")"
	}
	return fmt.Errorf("%w: vmid %d is held by %s%s; nothing was created", errVMIDTaken, vmid, holder, why)
}

// afterCreate plans what remains of the spec on the container the create
// step just made (re-read from PVE: GET .../pending and .../status/current)
// and puts those steps in place of the plan's own after it: the plan could
// not know what PVE (or the backup) would put there. They run with no
// snapshot before them, as the container is new.
func (a *applier) afterCreate(ctx context.Context) error {
	c := a.plannedFrom()
	if c == nil {
		return errors.New("the plan carries no spec to finish the new container from")
	}
	cur, err := a.readConfig(ctx)
	if err != nil {
		return fmt.Errorf("read the new container: %w: %w", errUnverified, err)
	}
	live := &diff.Live{Node: a.cp.Node, VMID: a.cp.VMID}
	fillPending(live, cur)
	if st, err := a.api.CurrentStatus(ctx, a.cp.Node, a.cp.VMID); err == nil {
		live.Running = st.Status == "running"
	}
	opts := diff.Options{Now: a.opts.Clock.Now(), Revision: a.plan.SourceRevision}
	if a.opts.Privileged != nil {
		opts.Root = availableRoot{a.opts.Privileged}
	}
	rest := diff.AfterCreate(c, live, opts)
	switch rest.Status {
	case plan.StatusChanges, plan.StatusUnchanged:
	default:
		return fmt.Errorf("created, but the rest of the spec cannot be applied to it: %s", strings.Join(rest.Blocked, "; "))
	}
	a.cur, a.start, a.digest = cur, cur, cur.Digest
	a.cp.Digest, a.cp.Running, a.cp.Changes, a.cp.RootOn = cur.Digest, live.Running, rest.Changes, rest.RootOn
	a.cp.Steps = append(a.cp.Steps[:1:1], rest.Steps...)
	steps := append(a.cr.Steps[:1:1], make([]StepResult, len(rest.Steps))...)
	for i, s := range rest.Steps {
		steps[1+i] = StepResult{Step: s, Status: StepSkipped}
	}
	a.cr.Steps = steps
	if len(rest.Steps) > 0 {
		a.cr.Warnings = append(a.cr.Warnings, "planned again on the new container: "+strconv.Itoa(len(rest.Steps))+" more step(s), no snapshot before them (the container is new)")
	}
	return nil
}
