package reconcile

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Source is a spec tree to load (Load): a folder, a git checkout, a test's
// fstest.MapFS.
type Source struct {
	// FS holds the tree; Root is its folder in FS ("" is ".").
	FS   fs.FS
	Root string
	// Revision names the source's revision in the plan (a git commit, or
	// felhom plan --revision); "" names it by its content
	// (spec.ContentRevision).
	Revision string
}

// Specs is a loaded spec tree: its containers, defaults applied, and the
// revision that names it in plans.
type Specs struct {
	Containers []spec.Container
	Revision   string
}

// Load loads and validates the specs of src. Specs that do not load cleanly
// are a *spec.InvalidError, with every diagnostic. It reads only src.FS.
func Load(src Source) (*Specs, error) { return LoadEach(src, nil) }

// LoadEach is Load that hands each container on, when each is not nil, as
// soon as it is validated (spec.LoadEach): give it Prefetched.Want, so
// that the plan's reads start while the rest of the specs load.
func LoadEach(src Source, each func(*spec.Container)) (*Specs, error) {
	root := src.Root
	if root == "" {
		root = "."
	}
	set, diags := spec.LoadEach(src.FS, root, each)
	if diags.HasErrors() {
		return nil, &spec.InvalidError{Root: root, Diagnostics: diags}
	}
	return SpecsOf(set, src.Revision)
}

// SpecsOf is the loaded set as Specs, named revision, or by its content
// (spec.Set.Revision) when revision is empty.
func SpecsOf(set *spec.Set, revision string) (*Specs, error) {
	s := &Specs{Revision: revision, Containers: make([]spec.Container, len(set.Containers))}
	for i, c := range set.Containers {
		s.Containers[i] = *c
	}
	if s.Revision == "" {
		rev, err := set.Revision()
		if err != nil {
			return nil, err
		}
		s.Revision = rev
	}
	return s, nil
}

// PlanSpecs plans the loaded specs (Plan), their revision in the plan.
func PlanSpecs(ctx context.Context, api API, s *Specs, opts PlanOptions) (*plan.Plan, error) {
	opts.Revision = s.Revision
	return Plan(ctx, api, s.Containers, opts)
}

// RunOptions tune Run.
type RunOptions struct {
	// Plan tunes the plan; its Revision is the Specs'. When its Root is
	// nil and Apply.Privileged is set, the plan routes root-only writes
	// where Apply.Privileged is available (so a caller such as the daemon
	// sets the backend once).
	Plan PlanOptions
	// Apply tunes the apply; its Specs are Run's.
	Apply Options
	// Planned, when set, sees every plan once it is made, before anything
	// is applied (to show it, save it, publish it); an error stops the run.
	Planned func(p *plan.Plan) error
	// Confirm, when set, is asked whether to apply a plan that has changes
	// (felhom apply's prompt); false or an error stops the run before
	// anything is changed. Nil applies without asking (--auto-approve, the
	// daemon).
	Confirm func(ctx context.Context, p *plan.Plan) (bool, error)
}

// RunResult is what Run did.
type RunResult struct {
	// Plan is the plan made (nil when planning failed).
	Plan *plan.Plan
	// Declined is true when Confirm answered no: nothing was applied and
	// Result is nil.
	Declined bool
	// Result is the apply's. For a plan without changes it reports every
	// container as planned (unchanged, skipped) and no call was made.
	Result *Result
}

// Run is plan, confirm and apply of specs loaded by Load, the way felhom
// apply DIR and the daemon both reconcile: PlanSpecs, then Planned, then
// (when the plan has changes) Confirm, then Apply. The error is for what
// stops the run before the apply (observing PVE, Planned, Confirm); what the
// apply did, failures included, is in Result. The RunResult is returned, as
// far as the run got, also with an error.
func Run(ctx context.Context, api API, s *Specs, opts RunOptions) (*RunResult, error) {
	run := &RunResult{}
	// The plan's preflight and the apply's read the token's privileges
	// seconds apart in one run: the apply takes the plan's reading. Should
	// they change in between, PVE's own 403 still stops the write.
	api = &runPermissions{API: api}
	if opts.Plan.Root == nil && opts.Apply.Privileged != nil {
		opts.Plan.Root = availableRoot{opts.Apply.Privileged}
	}
	p, err := PlanSpecs(ctx, api, s, opts.Plan)
	if err != nil {
		return run, err
	}
	run.Plan = p
	if opts.Planned != nil {
		if err := opts.Planned(p); err != nil {
			return run, err
		}
	}
	if !p.HasChanges() {
		run.Result = Apply(ctx, api, p, Options{Clock: opts.Apply.Clock})
		return run, nil
	}
	if opts.Confirm != nil {
		ok, err := opts.Confirm(ctx, p)
		if err != nil {
			return run, err
		}
		if !ok {
			run.Declined = true
			return run, nil
		}
	}
	ao := opts.Apply
	ao.Specs = s.Containers
	run.Result = Apply(ctx, api, p, ao)
	return run, nil
}

// runPermissions is a Run's API with GET /access/permissions read once per
// path: a failed read is not kept, so the next one tries again.
type runPermissions struct {
	API
	mu    sync.Mutex
	perms map[string]pve.Permissions
}

func (r *runPermissions) Permissions(ctx context.Context, path string) (pve.Permissions, error) {
	r.mu.Lock()
	p, ok := r.perms[path]
	r.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := r.API.Permissions(ctx, path)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.perms == nil {
		r.perms = map[string]pve.Permissions{}
	}
	r.perms[path] = p
	r.mu.Unlock()
	return p, nil
}

// StalePlanError is a saved plan that must not be applied: the config of
// the containers in Moved changed since it was made.
type StalePlanError struct {
	Moved []Moved
}

func (e *StalePlanError) Error() string {
	names := make([]string, len(e.Moved))
	for i, m := range e.Moved {
		names[i] = fmt.Sprintf("ct %d %s", m.VMID, m.Name)
	}
	return "saved plan is stale: the config of " + strings.Join(names, ", ") + " changed since it was made"
}

// ApplySaved applies a plan made earlier (felhom plan -out FILE): it is
// refused with a *plan.SafetyError when it breaks a safety rule
// (plan.CheckSafety), and with a *StalePlanError when any container it changes moved since
// (CheckDigests), else applied as it is. Without the specs, the baseline
// each container keeps is carried over (see Options.Specs).
func ApplySaved(ctx context.Context, api API, p *plan.Plan, opts Options) (*Result, error) {
	// A saved plan is input, not trust: every safety rule is checked
	// before anything is read or written (issue 10 item 14).
	if err := p.CheckSafety(); err != nil {
		return nil, err
	}
	moved, err := CheckDigests(ctx, api, p, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	if len(moved) > 0 {
		return nil, &StalePlanError{Moved: moved}
	}
	return Apply(ctx, api, p, opts), nil
}
