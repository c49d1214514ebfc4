package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/backup"
	"github.com/felhom/felhom/reconcile/schedule"
)

type backupOptions struct {
	global   *globalOptions
	due      bool
	now      []string
	output   string // text or json
	lockWait time.Duration
	only     []string
	getenv   func(string) string
}

func newBackupCommand(g *globalOptions) *cobra.Command {
	o := backupOptions{global: g, getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "backup [DIR] (--due | --now NAME|VMID...) [--only NAME|VMID]",
		Short: "Take the backups the specs schedule: those due now, or named ones at once",
		Long: `Take the vzdump backups that the specs' backup policies declare, for hosts
that do not run felhom daemon (examples/systemd has a timer for --due).

--due takes the backups that are due: a container is due when its schedule
(a PVE calendar event, read in its node's time zone as PVE reads its own
backup jobs) had an occurrence after its newest backup on the policy's
storage. What is backed up is read from PVE, never from a local file: after
a pause only the latest missed run is taken, and running again at once takes
none. --now NAME|VMID... backs up the named containers at once.

Due containers of one node with equal options go into one vzdump call, one
call per node at a time, with the spec's storage, mode, compress,
notes-template, protected and retention (prune-backups: PVE prunes each
container's own backups after its backup, as a PVE backup job does). A
container PVE has locked (a backup job of its own, a snapshot) is waited for
up to --lock-wait; felhom never removes a lock.

--only NAME|VMID (repeatable) limits either to the containers it names; an
--only that names no container is an error (exit 3).

Exit codes: 0 when every backup taken succeeded (or none was due), 1 when any
failed (each failure is printed with its part of the task log), 3 invalid
specs or arguments.`,
		Example: `  felhom backup examples/containers --due
  felhom backup containers/ --now web 201
  felhom backup --due -o json
  felhom backup containers/ --due --only web`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if !o.due && len(o.now) > 0 && len(args) > 0 {
				// --now takes the rest of the arguments as names; a first
				// argument that is a folder is DIR.
				if info, err := os.Stat(args[0]); err == nil && info.IsDir() {
					dir, args = args[0], args[1:]
				}
				o.now = append(o.now, args...)
				args = nil
			}
			if len(args) > 1 {
				return withExit(exitInvalid, fmt.Errorf("backup: want at most one folder, got %q", args))
			}
			if len(args) == 1 {
				dir = args[0]
			}
			return runBackup(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, dir)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.due, "due", false, "take the backups that are due now")
	f.StringSliceVar(&o.now, "now", nil, "take these containers' backups now (names or vmids; repeat or separate with commas)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.DurationVar(&o.lockWait, "lock-wait", backup.DefaultLockWait, "how long to wait for a container PVE has locked")
	f.StringSliceVar(&o.only, "only", nil, onlyFlagUsage)
	return cmd
}

func runBackup(ctx context.Context, stdout, stderr io.Writer, o backupOptions, dir string) error {
	if o.due == (len(o.now) > 0) {
		return withExit(exitInvalid, fmt.Errorf("backup: give either --due or --now NAME|VMID..."))
	}
	if o.output != "text" && o.output != "json" {
		return withExit(exitInvalid, fmt.Errorf("backup: --output %q: must be text or json", o.output))
	}
	specs, err := loadTargetSpecs(stderr, dir, "", o.only, nil)
	if err != nil {
		return err
	}
	targets, err := backup.Targets(specs.Containers)
	if err != nil {
		return withExit(exitInvalid, fmt.Errorf("backup: %w", err))
	}
	if len(o.now) > 0 {
		if targets, err = pickTargets(targets, o.now); err != nil {
			return withExit(exitInvalid, fmt.Errorf("backup: %w", err))
		}
	}
	api, err := connectPVE(o.global, o.getenv, reconcile.DefaultConcurrency)
	if err != nil {
		return err
	}
	r := backup.New(api, reconcile.SystemClock{}, backup.Options{LockWait: o.lockWait})
	obs, err := r.Observe(ctx, targets)
	if err != nil {
		return err
	}
	now := time.Now()
	var jobs []backup.Job
	if o.due {
		jobs = backup.Due(obs, now)
	} else {
		for _, c := range obs.Containers {
			jobs = append(jobs, backup.Job{Container: c})
		}
	}
	rep := r.Run(ctx, jobs)
	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(backupJSON(rep, obs, now)); err != nil {
			return err
		}
	} else {
		writeBackupReport(stdout, rep, obs, now, o.due)
	}
	failed := rep.Failed() + len(obs.Errors)
	if failed > 0 {
		return withExit(exitError, fmt.Errorf("backup: %d of %d backup(s) failed", failed, len(jobs)+len(obs.Errors)))
	}
	return nil
}

// pickTargets keeps the targets named (by metadata.name or vmid).
func pickTargets(targets []backup.Target, names []string) ([]backup.Target, error) {
	var out []backup.Target
	for _, n := range names {
		found := false
		for _, t := range targets {
			if t.Name == n || strconv.Itoa(t.VMID) == n {
				out = append(out, t)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("--now %s: no container of that name or vmid has a backup policy", n)
		}
	}
	return out, nil
}

// writeBackupReport prints one line per backup taken, each failure with
// its log lines, the containers that could not be read, and, when nothing
// was due, when the next backup is.
func writeBackupReport(w io.Writer, rep *backup.Report, obs *backup.Observed, now time.Time, due bool) {
	for _, x := range rep.Results {
		who := fmt.Sprintf("ct %d (%s) on %s", x.VMID, x.Name, x.Node)
		if x.Outcome == backup.OutcomeOK {
			fmt.Fprintf(w, "%s: backed up to %s (%s, %s)\n", who, x.Archive, mib(x.Size), x.Duration)
			for _, l := range x.Warnings {
				fmt.Fprintf(w, "    %s\n", l)
			}
			continue
		}
		fmt.Fprintf(w, "%s: backup to %s FAILED: %s\n", who, x.Storage, x.Error)
		for _, l := range x.Log {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, vmid := range slices.Sorted(maps.Keys(obs.Errors)) {
		fmt.Fprintf(w, "ct %d: not backed up: %v\n", vmid, obs.Errors[vmid])
	}
	if len(rep.Results) == 0 && due {
		fmt.Fprintln(w, "No backup is due.")
		if st, ok := nextBackup(obs, now); ok {
			loc := obs.Zones[st.Node]
			fmt.Fprintf(w, "Next: ct %d (%s) at %s node time (%s), %s UTC\n", st.VMID, st.Name, st.Next.In(loc).Format("2006-01-02 15:04"),
				loc, st.Next.UTC().Format("2006-01-02 15:04"))
		}
	}
	ok := len(rep.Results) - rep.Failed()
	if len(rep.Results) > 0 {
		fmt.Fprintf(w, "\n%d backed up, %d failed, in %d vzdump call(s).\n", ok, rep.Failed(), len(rep.Calls))
	}
}

// nextBackup is the container whose next run comes first.
func nextBackup(obs *backup.Observed, now time.Time) (schedule.Status, bool) {
	var best schedule.Status
	found := false
	for _, st := range obs.Evaluate(now) {
		if !st.Next.IsZero() && (!found || st.Next.Before(best.Next)) {
			best, found = st, true
		}
	}
	return best, found
}

func mib(n int64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", float64(n)/(1<<20)), "0"), ".") + " MiB"
}

// backupJSON is felhom backup -o json.
func backupJSON(rep *backup.Report, obs *backup.Observed, now time.Time) any {
	type result struct {
		VMID       int      `json:"vmid"`
		Name       string   `json:"name"`
		Node       string   `json:"node"`
		Storage    string   `json:"storage"`
		Outcome    string   `json:"outcome"`
		Occurrence string   `json:"occurrence,omitempty"`
		Archive    string   `json:"archive,omitempty"`
		Size       int64    `json:"size,omitempty"`
		UPID       string   `json:"upid,omitempty"`
		Seconds    float64  `json:"duration_seconds"`
		Error      string   `json:"error,omitempty"`
		Log        []string `json:"log,omitempty"`
		Warnings   []string `json:"warnings,omitempty"`
	}
	out := struct {
		Time    string            `json:"time"`
		Results []result          `json:"results"`
		Errors  map[string]string `json:"errors,omitempty"`
	}{Time: now.UTC().Format(time.RFC3339), Results: []result{}}
	for _, x := range rep.Results {
		r := result{VMID: x.VMID, Name: x.Name, Node: x.Node, Storage: x.Storage, Outcome: string(x.Outcome), Archive: x.Archive, Size: x.Size,
			UPID: x.UPID, Seconds: x.Duration.Seconds(), Error: x.Error, Log: x.Log, Warnings: x.Warnings}
		if !x.Occurrence.IsZero() {
			r.Occurrence = x.Occurrence.UTC().Format(time.RFC3339)
		}
		out.Results = append(out.Results, r)
	}
	for vmid, err := range obs.Errors {
		if out.Errors == nil {
			out.Errors = map[string]string{}
		}
		out.Errors[strconv.Itoa(vmid)] = err.Error()
	}
	return out
}
