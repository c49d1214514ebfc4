package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile/plan"
)

// selftestCleanupTimeout bounds deleting the self-test snapshot after the
// command's own context ended (Ctrl-C between create and delete).
const selftestCleanupTimeout = 5 * time.Minute

type selftestOptions struct {
	global  *globalOptions
	task    int    // VMID to exercise the task path on; 0: read-only report only
	node    string // node of --task's container; "" finds it via /cluster/resources
	verbose bool   // log every request at debug level to stderr
	getenv  func(string) string
	now     func() time.Time
	host    privileged.Host // where felhom runs: privileged.LocalHost()
}

func newSelftestCommand(g *globalOptions) *cobra.Command {
	o := selftestOptions{global: g, getenv: os.Getenv, now: time.Now, host: privileged.LocalHost()}
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Check the connection to PVE and what the API token may do",
		Long: `Check the configured PVE API: print its version, the nodes, the storages of each
node, and the privileges the token holds on each path (GET /access/permissions).
It only reads. It ends with a verdict: whether the token can plan, and
whether it can apply; it exits 1 when it cannot apply.

With --task VMID it also exercises the task path on that one container, and
undoes what it did: it creates the snapshot felhom-selftest-<unix time>, waits
for the task, deletes the snapshot and waits again, printing each task's UPID
and exit status. The container's node comes from --node or is looked up.

The connection comes from --config (YAML: url, token_id, token_secret or
token_secret_file, fingerprint or ca_file, ...) and the FELHOM_PVE_*
environment variables, which override the file.`,
		Example: `  FELHOM_PVE_URL=https://pve1:8006 FELHOM_PVE_TOKEN_ID='felhom@pve!ops' \
    FELHOM_PVE_TOKEN_SECRET_FILE=/etc/felhom/token FELHOM_PVE_FINGERPRINT=AA:BB:... felhom selftest
  felhom selftest --config pve.yaml --task 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("task") && o.task <= 0 {
				return withExit(exitInvalid, fmt.Errorf("selftest: --task %d: want the VMID of a container", o.task))
			}
			if o.node != "" && o.task == 0 {
				return withExit(exitInvalid, errors.New("selftest: --node needs --task"))
			}
			return runSelftest(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.task, "task", 0, "also snapshot container `VMID` and delete the snapshot again, to check the task path")
	f.StringVar(&o.node, "node", "", "node of the --task container (default: looked up in the cluster)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log each API request to stderr")
	return cmd
}

func runSelftest(ctx context.Context, o selftestOptions, out, errOut io.Writer) error {
	cfg, err := pve.LoadConfig(o.global.configFile, o.getenv)
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := o.global.logger(errOut, level)
	c, err := pve.New(cfg, pve.WithLogger(logger))
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	fmt.Fprintf(out, "PVE API %s, token %s\n", cfg.URL, cfg.TokenID)
	failed, missing := selftestReport(ctx, c, out)
	root, err := privilegedBackend(o.global, o.host, logger)
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	selftestPrivileged(out, root.Status())
	if failed > 0 {
		return fmt.Errorf("selftest: %d of the checks above failed", failed)
	}
	if o.task != 0 {
		if err := selftestTask(ctx, c, o, out); err != nil {
			return err
		}
	}
	if !selftestVerdict(out, missing) {
		return fmt.Errorf("selftest: the token cannot apply: it lacks %s (the verdict above)", strings.Join(missing.apply, ", "))
	}
	return nil
}

// selftestMissing are the privileges felhom uses that the token holds on
// no path: those plan needs, and those apply needs (all of them).
type selftestMissing struct{ plan, apply []string }

// selftestVerdict ends the report with what the token is good for, and
// reports whether it can apply. A privilege held on some path counts as
// held: which containers and storages it covers is the table above.
func selftestVerdict(out io.Writer, m selftestMissing) (canApply bool) {
	verdict := func(missing []string) string {
		if len(missing) == 0 {
			return "yes"
		}
		return "no, the token lacks " + strings.Join(missing, ", ")
	}
	fmt.Fprintln(out, "\nverdict:")
	fmt.Fprintf(out, "  plan only (felhom plan, validate, drift reports): %s\n", verdict(m.plan))
	fmt.Fprintf(out, "  apply (felhom apply, felhom daemon applying):      %s\n", verdict(m.apply))
	return len(m.apply) == 0
}

// selftestReport prints the read-only report and returns how many reads
// failed, and which of felhom's privileges the token holds nowhere. It goes
// on after a failure so that one report shows everything.
func selftestReport(ctx context.Context, c *pve.Client, out io.Writer) (failed int, missing selftestMissing) {
	fail := func(what string, err error) {
		failed++
		fmt.Fprintf(out, "%s: FAILED: %v\n", what, err)
	}
	v, err := c.Version(ctx)
	if err != nil {
		fail("version", err)
		if errors.Is(err, pve.ErrAuth) || errors.Is(err, context.Canceled) {
			return failed, missing // nothing else can work
		}
	} else {
		fmt.Fprintf(out, "version: %s (release %s, repoid %s)\n", v.Version, v.Release, v.RepoID)
	}

	nodes, err := c.Nodes(ctx)
	if err != nil {
		fail("nodes", err)
	} else {
		fmt.Fprintln(out, "\nnodes:")
		tw := newTable(out)
		for _, n := range nodes {
			if n.Status != "online" {
				fmt.Fprintf(tw, "  %s\t%s\n", n.Node, n.Status)
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\tuptime %s\n", n.Node, n.Status, time.Duration(n.Uptime)*time.Second)
		}
		tw.Flush()
	}
	for _, n := range nodes {
		if n.Status != "online" {
			fmt.Fprintf(out, "\nstorages on %s: skipped (node %s)\n", n.Node, n.Status)
			continue
		}
		st, err := c.Storages(ctx, n.Node)
		if err != nil {
			fail("storages on "+n.Node, err)
			continue
		}
		fmt.Fprintf(out, "\nstorages on %s:\n", n.Node)
		tw := newTable(out)
		for _, s := range st {
			state := "inactive"
			if s.Active {
				state = "active"
			}
			if s.Total > 0 {
				state += fmt.Sprintf(", %.0f%% used", 100*float64(s.Used)/float64(s.Total))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Storage, s.Type, s.Content, state)
		}
		tw.Flush()
	}

	perms, err := c.Permissions(ctx, "")
	if err != nil {
		fail("permissions", err)
		return failed, missing
	}
	fmt.Fprintln(out, "\ntoken privileges (GET /access/permissions):")
	if len(perms) == 0 {
		fmt.Fprintln(out, "  none: the token may not do anything")
	}
	tw := newTable(out)
	for _, p := range perms.Paths() {
		fmt.Fprintf(tw, "  %s\t%s\n", p, strings.Join(perms[p].Privileges(), ", "))
	}
	tw.Flush()

	fmt.Fprintln(out, "\nprivileges felhom uses, and where the token holds them:")
	tw = newTable(out)
	for _, u := range plan.PrivilegeUses() {
		held := heldOn(perms, u.Name)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.Name, held, strings.Join(u.For, "; "))
		if held == "MISSING" && !u.Optional {
			missing.apply = append(missing.apply, u.Name)
			if u.Plan {
				missing.plan = append(missing.plan, u.Name)
			}
		}
	}
	tw.Flush()
	return failed, missing
}

// newTable starts one of the report's aligned tables: columns two spaces
// apart. Flush it when the table is done.
func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
}

// heldOn lists the paths where perms holds priv; "(this path only)" marks a
// privilege that does not propagate to the paths below.
func heldOn(perms pve.Permissions, priv string) string {
	var paths []string
	for _, p := range perms.Paths() {
		propagate, ok := perms[p][priv]
		switch {
		case !ok:
		case propagate:
			paths = append(paths, p)
		default:
			paths = append(paths, p+" (this path only)")
		}
	}
	if len(paths) == 0 {
		return "MISSING"
	}
	return strings.Join(paths, ", ")
}

// selftestTask snapshots o.task and deletes the snapshot again, waiting for
// both tasks.
func selftestTask(ctx context.Context, c *pve.Client, o selftestOptions, out io.Writer) error {
	vmid, node := o.task, o.node
	if node == "" {
		res, err := c.ClusterResources(ctx, "vm")
		if err != nil {
			return fmt.Errorf("selftest: find ct %d: %w", vmid, err)
		}
		for _, r := range res {
			if r.VMID == vmid {
				if r.Type != "lxc" {
					return fmt.Errorf("selftest: guest %d is a %s, not a container", vmid, r.Type)
				}
				node = r.Node
			}
		}
		if node == "" {
			return fmt.Errorf("selftest: ct %d: not in the cluster's resources (or the token may not see it)", vmid)
		}
	}
	name := fmt.Sprintf("felhom-selftest-%d", o.now().Unix())
	fmt.Fprintf(out, "\ntask path on ct %d (node %s), snapshot %s:\n", vmid, node, name)

	upid, err := c.CreateSnapshot(ctx, node, vmid, name, "felhom selftest: checks the task path; deleted again at once")
	if err != nil {
		return fmt.Errorf("selftest: %w", err)
	}
	fmt.Fprintf(out, "  create snapshot  %s\n", upid)
	res, err := c.WaitTask(ctx, upid)
	if err != nil {
		printTaskFailure(out, err)
		return fmt.Errorf("selftest: create snapshot: %w", err)
	}
	printTaskResult(out, res)

	// The snapshot exists: delete it even if ctx ended meanwhile.
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), selftestCleanupTimeout)
	defer cancel()
	upid, err = c.DeleteSnapshot(cleanup, node, vmid, name, false)
	if err != nil {
		return fmt.Errorf("selftest: snapshot %s stays on ct %d: %w", name, vmid, err)
	}
	fmt.Fprintf(out, "  delete snapshot  %s\n", upid)
	res, err = c.WaitTask(cleanup, upid)
	if err != nil {
		printTaskFailure(out, err)
		return fmt.Errorf("selftest: snapshot %s may stay on ct %d: %w", name, vmid, err)
	}
	printTaskResult(out, res)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func printTaskResult(out io.Writer, res pve.TaskResult) {
	fmt.Fprintf(out, "    exit status: %s\n", res.ExitStatus)
	for _, l := range res.WarningLines {
		fmt.Fprintf(out, "    %s\n", l)
	}
}

func printTaskFailure(out io.Writer, err error) {
	var te *pve.TaskError
	if !errors.As(err, &te) {
		return
	}
	fmt.Fprintf(out, "    exit status: %s\n    log tail:\n", te.ExitStatus)
	for _, l := range te.LogTail {
		fmt.Fprintf(out, "      %s\n", l)
	}
}

// selftestPrivileged says whether the privileged backend may write root-only
// changes here, and on which node. It runs nothing.
func selftestPrivileged(out io.Writer, s privileged.Status) {
	fmt.Fprintln(out, "\nprivileged backend (bind and device mounts, devN, features beyond nesting: pct set as root):")
	switch {
	case !s.Enabled:
		fmt.Fprintln(out, "  not enabled: root-only changes are planned blocked (set privileged.enabled: true in felhom's config and run felhom as root on the container's node)")
		return
	case s.NodeErr != "":
		fmt.Fprintf(out, "  enabled, but the node is unknown: %s\n", s.NodeErr)
		return
	}
	if err := s.For(s.Node); err != nil {
		fmt.Fprintf(out, "  enabled, uid %d on node %s, but it cannot write: %v\n", s.UID, s.Node, err)
		return
	}
	fmt.Fprintf(out, "  ready: %s as root on node %s writes the containers of node %s only\n", s.PCT, s.Node, s.Node)
}
