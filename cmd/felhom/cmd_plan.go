package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/backup"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
)

type planOptions struct {
	global           *globalOptions
	output           string // text, json or markdown
	out              string // save the JSON plan here
	detailedExitcode bool
	overdueExitcode  bool // with detailedExitcode: an overdue backup exits 2 too
	concurrency      int
	revision         string
	unmanaged        string // ignore, report or fail
	only             []string
	getenv           func(string) string
	host             privileged.Host // where felhom runs: privileged.LocalHost()
}

func newPlanCommand(g *globalOptions) *cobra.Command {
	o := planOptions{global: g, getenv: os.Getenv, host: privileged.LocalHost()}
	cmd := &cobra.Command{
		Use:   "plan [DIR | FILE]",
		Short: "Read live state and print what apply would change",
		Long: `Load the specs under DIR (default: the current folder), read the live state of
the containers they name from PVE, and print the plan: per container the
changed fields, each with its class (hot, pending restart, root only,
impossible, awaiting restart), and the steps apply would take.

PVE is read with as few calls as a correct plan needs: one cluster resources
call, one storage list per node, and per container its pending config and its
snapshot list, --concurrency containers at a time. When the plan has changes,
the token's privileges are checked (GET /access/permissions) and a warning
names any that are missing.

The connection comes from --config and the FELHOM_PVE_* environment variables.

Exit codes: 1 when any container is in error (an impossible change, or its
live state could not be read), with or without --detailed-exitcode; 3 invalid
specs. With --detailed-exitcode, otherwise: 2 when the desired state is not
reached, that is any container has changes, is blocked or is missing; 0 when
every container is unchanged (changes left waiting for a restart by the
restart policy, and drift that drift: report leaves alone, count as
unchanged). Without it: 0. The backup section (each scheduled container's next
run in node time and UTC, freshness, and what the next run's retention
removes) is not a change: overdue backups exit 2 only with --overdue-exitcode.

Containers on PVE that no spec names are listed as unmanaged (vmid, name,
node); felhom never touches them, and a spec removed from the repo leaves its
container unmanaged, never deleted. --unmanaged ignore leaves them out,
--unmanaged fail exits 2 when there are any (with or without
--detailed-exitcode), so CI can insist that everything is in git.

Targeting: given a FILE, plan the containers of that one spec file (the
Defaults of its folder apply, as for felhom validate FILE); --only NAME|VMID
(repeatable) plans only the containers it names. An --only that names no
container is an error (exit 3). A targeted plan lists no unmanaged
containers: the specs it leaves out are not unmanaged.`,
		Example: `  felhom plan examples/containers
  felhom plan --output markdown --detailed-exitcode containers/
  felhom plan -out plan.json containers/ && felhom apply plan.json
  felhom plan containers/web.yaml
  felhom plan --only web --only 201 containers/`,
		Args: cobra.ArbitraryArgs, // checked below, for exit code 3
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return withExit(exitInvalid, fmt.Errorf("plan: want at most one folder or spec file, got %q", args))
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runPlan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, dir)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json or markdown")
	f.StringVar(&o.out, "out", "", "also save the plan as JSON to this file, for felhom apply FILE (terraform's -out FILE works too)")
	f.BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when a container has changes, is blocked or is missing; 0 when all are unchanged")
	f.BoolVar(&o.overdueExitcode, "overdue-exitcode", false, "with --detailed-exitcode, exit 2 also when a container's backup is overdue")
	f.IntVar(&o.concurrency, "concurrency", reconcile.DefaultConcurrency, "containers read from PVE at once; also the total requests in flight unless the config sets max_concurrency (per node: node_concurrency, default 3)")
	f.StringVar(&o.revision, "revision", "", "source revision to record in the plan (default: a digest of the specs)")
	f.StringVar(&o.unmanaged, "unmanaged", "report", "containers on PVE that no spec names: ignore, report (list them) or fail (list them and exit 2)")
	f.StringSliceVar(&o.only, "only", nil, onlyFlagUsage)
	return cmd
}

func runPlan(ctx context.Context, stdout, stderr io.Writer, o planOptions, dir string) error {
	if o.output != "text" && o.output != "json" && o.output != "markdown" {
		return withExit(exitInvalid, fmt.Errorf("plan: --output %q: must be text, json or markdown", o.output))
	}
	if o.concurrency < 1 {
		return withExit(exitInvalid, fmt.Errorf("plan: --concurrency %d: must be at least 1", o.concurrency))
	}
	if o.unmanaged == "" {
		o.unmanaged = "report"
	}
	if o.unmanaged != "ignore" && o.unmanaged != "report" && o.unmanaged != "fail" {
		return withExit(exitInvalid, fmt.Errorf("plan: --unmanaged %q: must be ignore, report or fail", o.unmanaged))
	}
	part := targeted(dir, o.only)
	if part && o.unmanaged == "fail" {
		return withExit(exitInvalid, fmt.Errorf("plan: --unmanaged fail needs the whole folder, not one file or --only"))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	specs, api, pre, err := loadPrefetching(ctx, o.global, o.getenv, o.concurrency, !part, func(each func(*spec.Container)) (*reconcile.Specs, error) {
		return loadTargetSpecs(stderr, dir, o.revision, o.only, each)
	})
	if err != nil {
		return err
	}
	root, err := privilegedBackend(o.global, o.host, o.global.logger(stderr, slog.LevelInfo))
	if err != nil {
		return err
	}
	popts := rootPlanOptions(o.concurrency, root)
	popts.Prefetched = pre
	popts.IgnoreUnmanaged = o.unmanaged == "ignore" || part
	p, err := reconcile.PlanSpecs(ctx, api, specs, popts)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	addBackupSection(ctx, api, specs, p)
	if o.out != "" {
		if err := savePlan(o.out, p); err != nil {
			return err
		}
	}
	if err := renderPlan(stdout, p, o.output, useColor(stdout, o.getenv)); err != nil {
		return err
	}
	if o.out != "" && o.output == "text" {
		fmt.Fprintf(stdout, "\nSaved the plan to %s; apply it with: felhom apply %s\n", o.out, o.out)
	}
	if err := planExit(p, o.detailedExitcode); err != nil {
		return err
	}
	if o.unmanaged == "fail" && len(p.Unmanaged) > 0 {
		return withExit(exitChanges, fmt.Errorf("plan: %d container(s) on PVE are in no spec (--unmanaged fail)", len(p.Unmanaged)))
	}
	if o.detailedExitcode && o.overdueExitcode && p.Backups != nil && p.Backups.Overdue > 0 {
		return withExit(exitChanges, nil)
	}
	return nil
}

// addBackupSection reads the backup schedules of the specs (reconcile/backup
// Observe: node zones, backup listings) and adds the plan's backup section.
// It is not a change and never fails the plan: what could not be read is
// the section's error for those containers.
func addBackupSection(ctx context.Context, api *pve.Client, specs *reconcile.Specs, p *plan.Plan) {
	targets, err := backup.Targets(specs.Containers)
	if err != nil {
		p.Warnings = append(p.Warnings, err.Error())
	}
	if len(targets) == 0 {
		return
	}
	obs, err := backup.New(api, reconcile.SystemClock{}, backup.Options{}).Observe(ctx, targets)
	if err != nil {
		obs = &backup.Observed{Errors: map[int]error{}}
		for _, t := range targets {
			obs.Errors[t.VMID] = err
		}
	}
	p.Backups = backup.PlanSection(targets, obs, p.CreatedAt)
}

// singleDashOut accepts terraform's spelling "-out FILE" and "-out=FILE" for
// felhom plan, anywhere in its arguments: the flag parser would read it as
// the shorthand -o with the value "ut", so the arguments are rewritten to
// --out before cobra parses them. Other commands and anything after "--"
// are left alone.
func singleDashOut(root *cobra.Command, args []string) []string {
	if cmd, _, err := root.Find(args); err != nil || cmd.Name() != "plan" {
		return args
	}
	out := slices.Clone(args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			out[i] = "-" + a
		}
	}
	return out
}

// planExit maps a plan to the exit code: 1 when a container is in error;
// else, with --detailed-exitcode, 2 when the desired state is not reached
// (a container has changes, is blocked or is missing: CI must see that) and
// 0 when every container is unchanged.
func planExit(p *plan.Plan, detailed bool) error {
	s := p.Summary()
	if s.Errors > 0 {
		return withExit(exitError, fmt.Errorf("plan: %d container(s) cannot be planned (see above)", s.Errors))
	}
	if detailed && s.Changes+s.Blocked+s.Missing > 0 {
		return withExit(exitChanges, nil)
	}
	return nil
}

// loadPrefetching connects to PVE and, when prefetch is set (the plan
// covers the whole folder), starts the plan's reads (reconcile.Prefetch:
// the cluster resources, the nodes' storage lists, and the pending config
// of each container as soon as load hands it to each) while it loads the
// specs, so that loading is off the plan's critical path. Invalid specs
// are the error first, whatever the connection (exit 3, as before); then a
// connection that cannot be made. Cancel ctx to stop the prefetch when no
// plan follows.
func loadPrefetching(ctx context.Context, g *globalOptions, getenv func(string) string, concurrency int, prefetch bool,
	load func(each func(*spec.Container)) (*reconcile.Specs, error)) (*reconcile.Specs, *pve.Client, *reconcile.Prefetched, error) {
	api, cerr := connectPVE(g, getenv, concurrency)
	var pre *reconcile.Prefetched
	var each func(*spec.Container)
	if cerr == nil && prefetch {
		pre = reconcile.Prefetch(ctx, api, concurrency, api.NodeConcurrency())
		each = pre.Want
	}
	specs, err := load(each)
	if err != nil {
		return nil, nil, nil, err
	}
	if cerr != nil {
		return nil, nil, nil, cerr
	}
	return specs, api, pre, nil
}

// loadPlanSpecs loads and validates the specs under dir (reconcile.Load);
// invalid specs print their diagnostics and give exit code 3. revision, when
// set, names them in the plan (--revision); else their content does
// (spec.Set.Revision). each, when not nil, gets each container as soon as
// it is validated (reconcile.LoadEach).
func loadPlanSpecs(stderr io.Writer, dir, revision string, each func(*spec.Container)) (*reconcile.Specs, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, withExit(exitInvalid, fmt.Errorf("specs: %w", err))
	}
	if !info.IsDir() {
		return nil, withExit(exitInvalid, fmt.Errorf("specs: %s is not a folder", dir))
	}
	src, prefix := specSource(dir)
	src.Revision = revision
	specs, err := reconcile.LoadEach(src, each)
	var inv *spec.InvalidError
	if errors.As(err, &inv) {
		for _, d := range inv.Diagnostics {
			if prefix != "" {
				d.File = filepath.Join(prefix, filepath.FromSlash(d.File))
			}
			fmt.Fprintln(stderr, d.String())
		}
		return nil, withExit(exitInvalid, fmt.Errorf("specs under %s are invalid (felhom validate %s shows why)", dir, dir))
	}
	return specs, err
}

// specSource is the spec folder dir as loadSpecs reads it, and the folder to
// put in front of the file names of its diagnostics ("" for none).
func specSource(dir string) (reconcile.Source, string) {
	clean := filepath.Clean(dir)
	if filepath.IsLocal(clean) || clean == "." {
		return reconcile.Source{FS: os.DirFS("."), Root: filepath.ToSlash(clean)}, ""
	}
	return reconcile.Source{FS: os.DirFS(clean), Root: "."}, clean
}

// cliPlanOptions are the plan options of felhom plan and felhom apply DIR.
func cliPlanOptions(concurrency int) reconcile.PlanOptions {
	return reconcile.PlanOptions{
		ObserveOptions: reconcile.ObserveOptions{Concurrency: concurrency},
		Now:            time.Now(), Preflight: true,
	}
}

// connectPVE builds the API client from --config and FELHOM_PVE_*.
// --concurrency sets how many containers felhom works on at once and,
// unless the config sets max_concurrency, the total requests in flight;
// a max_concurrency below it caps it, which is warned. Per node the config's
// node_concurrency bounds requests (default pve.DefaultNodeConcurrency,
// pveproxy's workers). The client's warnings (such as TLS verification
// being off) go to stderr.
func connectPVE(g *globalOptions, getenv func(string) string, concurrency int) (*pve.Client, error) {
	cfg, err := pve.LoadConfig(g.configFile, getenv)
	if err != nil {
		return nil, fmt.Errorf("pve connection (--config, %s...): %w", pve.EnvURL, err)
	}
	log := g.logger(os.Stderr, slog.LevelWarn)
	switch {
	case cfg.MaxConcurrency == 0:
		cfg.MaxConcurrency = concurrency
	case cfg.MaxConcurrency < concurrency:
		log.Warn("the config's max_concurrency caps --concurrency: fewer requests in flight than containers worked on", "max_concurrency", cfg.MaxConcurrency, "concurrency", concurrency)
	}
	return pve.New(cfg, pve.WithLogger(log))
}

func savePlan(path string, p *plan.Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("plan: save: %w", err)
	}
	return nil
}

func renderPlan(w io.Writer, p *plan.Plan, output string, color bool) error {
	switch output {
	case "json":
		return render.JSON(w, p)
	case "markdown":
		return render.Markdown(w, p)
	}
	return render.Text(w, p, render.TextOptions{Color: color})
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor: colour only on a terminal, and never when NO_COLOR is set
// (https://no-color.org: any non-empty value).
func useColor(w io.Writer, getenv func(string) string) bool {
	return colorWanted(isTerminal(w), getenv)
}

func colorWanted(terminal bool, getenv func(string) string) bool {
	return terminal && getenv("NO_COLOR") == ""
}
