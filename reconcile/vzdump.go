package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/reconcile/plan"
)

// vzdump backs the container up; a prune of the same storage rides on it
// (foldPrune).
func (a *applier) vzdump(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp, p := a.cp, st.Params
	// The backup keeps what the spec asks of it (protected), and prunes
	// nothing the spec does not declare (issue 10 item 11): remove=0
	// unless the spec's retention rides on it.
	no := false
	o := pve.VzdumpOptions{VMID: cp.VMID, Storage: p["storage"], Mode: p["mode"], Compress: p["compress"],
		NotesTemplate: p["notes-template"], Remove: &no, Protected: p["protected"] == "1"}
	for j := range a.folded {
		// The retention of the same storage rides on this vzdump.
		o.PruneBackups = cp.Steps[j].Params["prune-backups"]
		t := true
		o.Remove = &t
	}
	var upid pve.UPID
	run := func() error {
		return a.retryLocked(ctx, func() (err error) {
			if upid, err = a.api.Vzdump(ctx, cp.Node, o); err == nil {
				err = a.await(ctx, upid, sr)
			}
			return err
		})
	}
	err := run()
	if o.PruneBackups == "" && atBackupLimit(err) {
		// With remove=0 PVE enforces the storage's retention as a limit
		// (PVE::VZDump exec_backup_task: "There is a max backup limit of
		// N enforced"). keep-all=1 for this job lifts it and still deletes
		// nothing; PVE asks Datastore.Allocate on the storage for it.
		o.PruneBackups = "keep-all=1"
		a.cr.Warnings = append(a.cr.Warnings, fmt.Sprintf("%s is at its backup limit for this container; the backup before the change was made with prune-backups keep-all=1, deleting none", p["storage"]))
		err = run()
	}
	if err != nil {
		return err
	}
	for j := range a.folded {
		a.cr.Steps[j].Status, a.cr.Steps[j].UPID, a.cr.Steps[j].ExitStatus = StepApplied, upid.String(), sr.ExitStatus
		a.cr.Steps[j].Error = ""
	}
	// A backup locks the config while it runs; the config must come back
	// as it was, or, after a stop-mode backup restarted the container, as
	// it was to be: the pending values current (the digest moves).
	return a.rereadEffective(ctx)
}

// atBackupLimit reports whether a vzdump failed at PVE's max-backup limit.
func atBackupLimit(err error) bool {
	var te *pve.TaskError
	if errors.As(err, &te) {
		for _, l := range te.LogTail {
			if strings.Contains(l, "max backup limit") {
				return true
			}
		}
	}
	return false
}

// prune prunes the container's backups on one storage. A prune with a
// vzdump to the same storage rode on it (foldPrune); this one stands alone:
// PVE's own prune, for this container's backups only, by the retention the
// plan carries.
func (a *applier) prune(ctx context.Context, st plan.Step, sr *StepResult) error {
	cp, p := a.cp, st.Params
	q, err := pruneQuery(cp.VMID, p)
	if err != nil {
		return err
	}
	upid, err := a.api.PruneBackups(ctx, cp.Node, p["storage"], q)
	if err != nil {
		return err
	}
	return a.await(ctx, upid, sr)
}

// pruneQuery checks a prune step's parameters and turns them into PVE's
// prune call. Rule 8: the prune must name this container (without a vmid PVE
// prunes every guest's backups on the storage) and the spec's retention
// (without one PVE applies the storage's own). A plan read from a file is
// checked as strictly as one just made.
func pruneQuery(vmid int, p map[string]string) (pve.PruneQuery, error) {
	switch {
	case p["storage"] == "":
		return pve.PruneQuery{}, errors.New("prune backups: the step names no storage")
	case p["vmid"] != strconv.Itoa(vmid):
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step is for vmid %q, not this container's %d; felhom prunes only the container's own backups", p["storage"], p["vmid"], vmid)
	case p["type"] != "lxc":
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step is for type %q, not lxc", p["storage"], p["type"])
	case p["prune-backups"] == "":
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: the step carries no retention; felhom never prunes by the storage's own", p["storage"])
	}
	if _, err := prune.ParseOptions(p["prune-backups"]); err != nil {
		return pve.PruneQuery{}, fmt.Errorf("prune backups on %s: %w", p["storage"], err)
	}
	return pve.PruneQuery{PruneBackups: p["prune-backups"], Type: "lxc", VMID: vmid}, nil
}

// foldPrune finds prune steps that the vzdump step can carry out itself
// (vzdump with prune-backups and remove=1 prunes that storage after the
// backup, as PVE's own backup jobs do).
func (a *applier) foldPrune() map[int]bool {
	out := map[int]bool{}
	var dumpStorage string
	for _, s := range a.cp.Steps {
		if s.Action == plan.ActionVzdump {
			dumpStorage = s.Params["storage"]
		}
	}
	if dumpStorage == "" {
		return out
	}
	for i, s := range a.cp.Steps {
		if s.Action != plan.ActionPrune || s.Params["storage"] != dumpStorage {
			continue
		}
		if _, err := pruneQuery(a.cp.VMID, s.Params); err == nil {
			// A prune the check refuses is not folded: it runs as its own
			// step and fails there, loudly.
			out[i] = true
			break
		}
	}
	return out
}
