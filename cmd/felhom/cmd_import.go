package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/reconcile/adopt"
)

type importOptions struct {
	global *globalOptions
	node   string
	vmids  []int
	all    bool
	out    string
	force  bool
	getenv func(string) string
}

func newImportCommand(g *globalOptions) *cobra.Command {
	o := importOptions{global: g, getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "import (--vmid ID... | --all) [--node N] [--out DIR]",
		Short: "Write a spec file for each live container, to adopt an existing cluster",
		Long: `Read the containers from PVE and write one spec file per container into
--out (default: the current folder), named after the container: every value
the spec knows, as PVE has it, in the spec's canonical forms (sizes with
units, structured networks and mount points, PVE's key names). felhom plan
on the folder then plans no changes.

What PVE does not give back (the root password, SSH keys, the template the
container was made from) and the keys the spec does not manage (arch,
ostype, unprivileged, lxc.* ...) are named in comments at the top of each
file: felhom leaves them as they are.

An existing file is never overwritten unless --force is given; the
containers whose file exists are named and the command exits 1.`,
		Example: `  felhom import --all --out containers/
  felhom import --node pve2 --all --out containers/pve2
  felhom import --vmid 101 --vmid 102`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.node, "node", "", "only the containers on this node")
	f.IntSliceVar(&o.vmids, "vmid", nil, "the container to import (repeat it, or give a comma-separated list)")
	f.BoolVar(&o.all, "all", false, "import every container (on --node, when given)")
	f.StringVar(&o.out, "out", ".", "folder to write the spec files to (created when missing)")
	f.BoolVar(&o.force, "force", false, "overwrite spec files that exist")
	return cmd
}

func runImport(ctx context.Context, stdout, stderr io.Writer, o importOptions) error {
	if o.all == (len(o.vmids) > 0) {
		return withExit(exitInvalid, errors.New("import: give either --vmid ID... or --all"))
	}
	api, err := connectPVE(o.global, o.getenv, 4)
	if err != nil {
		return err
	}
	res, err := api.ClusterResources(ctx, "vm")
	if err != nil {
		return fmt.Errorf("import: cluster resources: %w", err)
	}
	type target struct {
		node   string
		vmid   int
		status string
	}
	var todo []target
	found := map[int]bool{}
	for _, r := range res {
		if r.Type != "lxc" || (o.node != "" && r.Node != o.node) {
			continue
		}
		if o.all || slices.Contains(o.vmids, r.VMID) {
			todo = append(todo, target{r.Node, r.VMID, r.Status})
			found[r.VMID] = true
		}
	}
	for _, id := range o.vmids {
		if !found[id] {
			where := ""
			if o.node != "" {
				where = " on node " + o.node
			}
			return fmt.Errorf("import: no container %d%s", id, where)
		}
	}
	slices.SortFunc(todo, func(a, b target) int { return a.vmid - b.vmid })
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	names := map[string]bool{}
	var skipped []string
	for _, t := range todo {
		pc, err := api.Pending(ctx, t.node, t.vmid)
		if err != nil {
			return fmt.Errorf("import: ct %d: %w", t.vmid, err)
		}
		l := adopt.LiveFrom(t.node, t.vmid, pc)
		l.Status = t.status
		r, err := adopt.Document(l)
		if err != nil {
			return fmt.Errorf("import: ct %d: %w", t.vmid, err)
		}
		if names[r.Name] {
			l.Name = fmt.Sprintf("%s-%d", r.Name, t.vmid)
			if r, err = adopt.Document(l); err != nil {
				return fmt.Errorf("import: ct %d: %w", t.vmid, err)
			}
		}
		names[r.Name] = true
		path := filepath.Join(o.out, r.Name+".yaml")
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if o.force {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(path, flag, 0o644)
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "ct %d: %s exists; not overwritten (--force overwrites it)\n", t.vmid, path)
			skipped = append(skipped, path)
			continue
		}
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		_, werr := f.Write(r.YAML)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("import: %s: %w", path, err)
		}
		fmt.Fprintf(stdout, "ct %d on %s: wrote %s\n", t.vmid, t.node, path)
	}
	if len(todo) == 0 {
		fmt.Fprintln(stdout, "No containers to import.")
		return nil
	}
	fmt.Fprintf(stdout, "\nReview the files, then commit them; felhom plan %s shows no changes for them.\n", o.out)
	if len(skipped) > 0 {
		return fmt.Errorf("import: %d file(s) exist and were not overwritten", len(skipped))
	}
	return nil
}
