package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

// errNoApprove refuses to apply without asking when nobody can answer.
var errNoApprove = errors.New("apply: stdin is not a terminal; pass --auto-approve to apply without asking")

type applyOptions struct {
	global      *globalOptions
	autoApprove bool
	concurrency int
	onFailure   string // "" unless --on-failure is given: each container's own policy
	lockWait    time.Duration
	output      string // text or json: the result
	revision    string
	only        []string
	getenv      func(string) string
	stdin       io.Reader
	host        privileged.Host // where felhom runs: privileged.LocalHost()
}

func newApplyCommand(g *globalOptions) *cobra.Command {
	o := applyOptions{global: g, getenv: os.Getenv, stdin: os.Stdin, host: privileged.LocalHost()}
	cmd := &cobra.Command{
		Use:   "apply [DIR | FILE]",
		Short: "Make the live containers match the specs (or carry out a saved plan)",
		Long: `With a folder (default: the current one), plan as felhom plan does, show the
plan, ask for confirmation (on a terminal, unless --auto-approve) and apply it.
With a plan file saved by felhom plan -out FILE, apply exactly that plan; it is
refused (exit 4) when any container it changes has a different config digest
on PVE now than when the plan was made.

Each changed container is protected first: a felhom snapshot (or a vzdump
backup where PVE cannot snapshot it and the spec's snapshot policy asks for
one), awaited before the first write. Locks are waited out (--lock-wait), every
write carries the config digest, every task is awaited, and the result is read
back and verified. A failure after the snapshot rolls the container back to it,
or leaves it and reports what is half-done, as the spec's snapshot.on-failure
says (default rollback); --on-failure, when given, overrides that for every
container in this run. Containers are worked on --concurrency at a time; one
failing does not stop the others.

A spec whose vmid is not on PVE and that has a create section is created
(from its OS template or backup, after checking the vmid is still free and
reading its password file), then the rest of the spec is applied to it with
no snapshot (it is new). With power: running or stopped, the container is
started or cleanly shut down after the writes. felhom never deletes a
container.

Ctrl-C stops starting new steps; the running task is awaited, so no lock is
left behind, and the result says what was done. A second Ctrl-C quits at
once: the task goes on running on PVE and releases its lock when it ends,
but felhom reports nothing, and a failure it would have rolled back is left
as it is.

--only NAME|VMID (repeatable) plans and applies only the containers it
names; an --only that names no container is an error (exit 3). A saved
plan is applied whole: target when making it (felhom plan --only ... -out).
A spec file is not a target of apply: give its folder with --only.

Exit codes: 0 applied, 1 a container failed or went stale, 3 invalid specs,
4 stale saved plan, 130 interrupted.`,
		Example: `  felhom apply examples/containers
  felhom plan -out plan.json containers/ && felhom apply plan.json
  felhom apply --auto-approve --on-failure leave containers/
  felhom apply --only web containers/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			return runApply(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, target)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.autoApprove, "auto-approve", false, "apply without asking for confirmation")
	f.IntVar(&o.concurrency, "concurrency", reconcile.DefaultConcurrency, "containers worked on at once; also the total requests in flight unless the config sets max_concurrency (per node: node_concurrency, default 3)")
	f.StringVar(&o.onFailure, "on-failure", "", "after a failure past the snapshot: rollback or leave, for every container (default: each spec's snapshot.on-failure)")
	f.DurationVar(&o.lockWait, "lock-wait", reconcile.DefaultLockWait, "how long to wait for a container's lock (backup, snapshot, ...) to go")
	f.StringVarP(&o.output, "output", "o", "text", "result format: text or json")
	f.StringVar(&o.revision, "revision", "", "source revision to record in the plan (default: a digest of the specs)")
	f.StringSliceVar(&o.only, "only", nil, onlyFlagUsage)
	return cmd
}

func runApply(ctx context.Context, stdout, stderr io.Writer, o applyOptions, target string) error {
	if o.output != "text" && o.output != "json" {
		return withExit(exitInvalid, fmt.Errorf("apply: --output %q: must be text or json", o.output))
	}
	if o.onFailure != "" && !spec.OnFailure(o.onFailure).Valid() {
		return withExit(exitInvalid, fmt.Errorf("apply: --on-failure %q: must be rollback or leave", o.onFailure))
	}
	if o.concurrency < 1 {
		return withExit(exitInvalid, fmt.Errorf("apply: --concurrency %d: must be at least 1", o.concurrency))
	}
	info, err := os.Stat(target)
	if err != nil {
		return withExit(exitInvalid, fmt.Errorf("apply: %w", err))
	}
	var specs *reconcile.Specs
	var saved *plan.Plan
	var api *pve.Client
	var pre *reconcile.Prefetched
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if info.IsDir() {
		load := func(each func(*spec.Container)) (*reconcile.Specs, error) {
			return loadTargetSpecs(stderr, target, o.revision, o.only, each)
		}
		if specs, api, pre, err = loadPrefetching(ctx, o.global, o.getenv, o.concurrency, len(o.only) == 0, load); err != nil {
			return err
		}
	} else {
		if err := applyFileTarget(target, o.only); err != nil {
			return err
		}
		b, err := readPlanFile(target)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if saved, err = plan.Parse(b); err != nil {
			if !looksLikeJSON(b) {
				return withExit(exitInvalid, errNotAPlan(target))
			}
			return withExit(exitInvalid, fmt.Errorf("apply: %s: %w", target, err))
		}
	}
	if api == nil {
		if api, err = connectPVE(o.global, o.getenv, o.concurrency); err != nil {
			return err
		}
	}
	root, err := privilegedBackend(o.global, o.host, o.global.logger(stderr, slog.LevelInfo))
	if err != nil {
		return err
	}
	color := useColor(stdout, o.getenv)

	opts := reconcile.Options{Concurrency: o.concurrency, OnFailure: spec.OnFailure(o.onFailure), LockWait: o.lockWait, Preflight: true,
		Privileged: root}
	var tp *render.TerminalProgress
	if isTerminal(stderr) {
		tp = render.NewTerminalProgress(stderr, 200*time.Millisecond)
		opts.Progress = tp
	} else {
		opts.Progress = render.LogProgress{Log: o.global.logger(stderr, slog.LevelInfo)}
	}
	stopProgress := func() {
		if tp != nil {
			tp.Stop()
			tp = nil
		}
	}
	defer stopProgress()

	var p *plan.Plan
	var res *reconcile.Result
	if saved != nil {
		p = saved
		res, err = reconcile.ApplySaved(ctx, api, p, opts)
		var stale *reconcile.StalePlanError
		if errors.As(err, &stale) {
			var names []string
			for _, m := range stale.Moved {
				names = append(names, fmt.Sprintf("ct %d %s", m.VMID, m.Name))
			}
			return withExit(exitStalePlan, fmt.Errorf("apply: saved plan %s is stale: the config of %s changed since it was made; run felhom plan again",
				target, strings.Join(names, ", ")))
		}
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	} else {
		popts := rootPlanOptions(o.concurrency, root)
		popts.IgnoreUnmanaged = len(o.only) > 0
		popts.Prefetched = pre
		run, err := reconcile.Run(ctx, api, specs, reconcile.RunOptions{
			Plan:  popts,
			Apply: opts,
			Planned: func(p *plan.Plan) error {
				if o.output != "text" {
					return nil
				}
				return renderPlan(stdout, p, "text", color)
			},
			Confirm: func(context.Context, *plan.Plan) (bool, error) {
				if o.autoApprove {
					return true, nil
				}
				if !isTerminal(o.stdin) {
					return false, withExit(exitError, errNoApprove)
				}
				return confirm(stdout, o.stdin)
			},
		})
		if err != nil {
			if errors.Is(err, errNoApprove) {
				return err
			}
			return fmt.Errorf("apply: %w", err)
		}
		p = run.Plan
		if run.Declined {
			// As terraform does: anything but "yes" is not an apply, and a
			// script must not read it as one.
			fmt.Fprintln(stdout, "Apply cancelled.")
			return withExit(exitError, nil)
		}
		res = run.Result
		if !p.HasChanges() {
			if o.output == "json" {
				if err := render.ResultJSON(stdout, res); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(stdout, "\n"+nothingToApply(p.Summary()))
			}
			return planExit(p, false)
		}
	}
	stopProgress()
	if o.output == "json" {
		if err := render.ResultJSON(stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout)
		if err := render.ResultText(stdout, res, render.TextOptions{Color: color}); err != nil {
			return err
		}
	}
	return applyPlanExit(ctx, p, res)
}

// applyExit: 130 when interrupted, 1 when a container failed or went
// stale, else 0.
func applyExit(ctx context.Context, res *reconcile.Result) error {
	if res.Cancelled && ctx.Err() != nil {
		return fmt.Errorf("apply interrupted; the result above says what was done: %w", ctx.Err())
	}
	if res.Failed() {
		c := res.Count()
		return withExit(exitError, fmt.Errorf("apply: %d container(s) failed, %d stale", c[reconcile.OutcomeFailed], c[reconcile.OutcomeStale]))
	}
	return nil
}

// applyPlanExit adds to applyExit that containers the plan could not plan
// (status error) make the run an error too, after the others were applied.
func applyPlanExit(ctx context.Context, p *plan.Plan, res *reconcile.Result) error {
	if err := applyExit(ctx, res); err != nil {
		return err
	}
	return planExit(p, false)
}

// nothingToApply is apply's closing line for a plan without changes. It
// says why nothing is applied: no change, or containers blocked, missing or
// not planned, which the plan above shows.
func nothingToApply(s plan.Summary) string {
	var why []string
	noun := func(n int) string {
		if len(why) > 0 {
			return fmt.Sprint(n)
		}
		if n == 1 {
			return "1 container"
		}
		return fmt.Sprintf("%d containers", n)
	}
	if s.Blocked > 0 {
		why = append(why, noun(s.Blocked)+" blocked")
	}
	if s.Missing > 0 {
		why = append(why, noun(s.Missing)+" missing")
	}
	if s.Errors > 0 {
		why = append(why, noun(s.Errors)+" not planned (error)")
	}
	if len(why) == 0 {
		return "No changes. Nothing to apply."
	}
	return "Nothing to apply: " + strings.Join(why, ", ") + " (see above)."
}

func confirm(out io.Writer, in io.Reader) (bool, error) {
	fmt.Fprint(out, "\nApply these changes? Only 'yes' is accepted: ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("apply: reading the answer: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}

// readPlanFile reads a saved plan, at most plan.MaxPlanBytes of it and one
// byte more, so that plan.Parse refuses a larger one by its size rule
// instead of felhom reading without bound; only a regular file is read.
func readPlanFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	return io.ReadAll(io.LimitReader(f, plan.MaxPlanBytes+1))
}

// applyFileTarget refuses what apply cannot take as a FILE: a spec file
// (apply takes its folder, and --only for part of it), and --only with a
// saved plan (which is applied whole).
func applyFileTarget(target string, only []string) error {
	if ext := filepath.Ext(target); ext == ".yaml" || ext == ".yml" {
		return withExit(exitInvalid, errNotAPlan(target))
	}
	if len(only) > 0 {
		return withExit(exitInvalid, fmt.Errorf("apply: --only cannot be used with a saved plan (%s), which is applied whole; target when making it: felhom plan --only NAME -out FILE DIR", target))
	}
	return nil
}

// errNotAPlan says what apply takes, for a FILE that is not a saved plan.
func errNotAPlan(target string) error {
	return fmt.Errorf("apply: %s is not a saved plan: apply takes a folder of specs (felhom apply DIR, --only NAME for part of it) or a plan saved by felhom plan -out FILE", target)
}

// looksLikeJSON: a saved plan is a JSON object, so its first byte past
// white space is "{".
func looksLikeJSON(b []byte) bool {
	t := strings.TrimLeft(string(b), " \t\r\n")
	return strings.HasPrefix(t, "{")
}
