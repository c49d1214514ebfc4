package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/daemon"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/reconcile/render"
	"github.com/felhom/felhom/spec"
	"github.com/felhom/felhom/spec/source"
)

type demoOptions struct {
	examples string // the examples folder: sim/inventory.yaml and containers/
	getenv   func(string) string
}

func newDemoCommand() *cobra.Command {
	o := demoOptions{getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "A first run: a simulated cluster, then validate, plan, apply, plan, drift",
		Long: `Start a simulated PVE cluster in this process, seeded from
examples/sim/inventory.yaml, and walk through felhom on the specs in
examples/containers: validate them, plan, apply, plan again (no changes), then
change containers by hand as an admin would and plan once more to show the
drift: planned back under drift: revert, left as found under drift: report.
Then felhom daemon runs on a copy of the specs in a watched folder: its first
resync reverts and reports those hand changes, a changed spec file is applied,
and a new hand change is reverted at the next resync.
Nothing outside this process is touched; tasks finish at once.

Run it from the repository's root (or point --examples at the folder).`,
		Example: `  go run ./cmd/felhom demo`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.examples, "examples", "examples", "the examples folder (holding sim/inventory.yaml and containers/)")
	return cmd
}

// demoToken is the token the demo uses: felhom's own, from the inventory.
const demoToken = "felhom@pve!reconcile"

func runDemo(ctx context.Context, out io.Writer, o demoOptions) error {
	color := useColor(out, o.getenv)
	head := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		if color {
			s = "\x1b[1;36m" + s + "\x1b[0m"
		}
		fmt.Fprintf(out, "\n%s\n\n", s)
	}
	invPath := filepath.Join(o.examples, "sim", "inventory.yaml")
	specDir := filepath.Join(o.examples, "containers")
	inv, err := pvesim.LoadInventory(invPath)
	if err != nil {
		return fmt.Errorf("demo: %w (run it from the repository's root, or pass --examples)", err)
	}
	sim, err := pvesim.New(inv)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", invPath, err)
	}
	srv, err := sim.StartTLS()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer srv.Close()
	cred, ok := sim.Token(demoToken)
	if !ok {
		return fmt.Errorf("demo: %s has no token %s", invPath, demoToken)
	}
	// The demo's own transport trusts the simulator's certificate.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CertPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	api, err := pve.New(pve.Config{URL: srv.URL, TokenID: cred.TokenID, TokenSecret: pve.Secret(cred.Secret),
		Fingerprint: srv.Fingerprint, MaxConcurrency: reconcile.DefaultConcurrency},
		pve.WithHTTPClient(&http.Client{Transport: tr}),
		pve.WithTaskPoll(5*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "felhom demo: a simulated PVE 9 cluster %q from %s is serving at %s\n", inv.Cluster, invPath, srv.URL)
	fmt.Fprintf(out, "(certificate %s, token %s)\n", srv.Fingerprint, cred.TokenID)

	head("$ felhom validate %s", specDir)
	if err := runValidate(out, validateOptions{output: "text"}, specDir); err != nil {
		return err
	}
	loaded, err := loadPlanSpecs(out, specDir, "", nil)
	if err != nil {
		return err
	}
	specs := loaded.Containers
	planOnce := func() (*plan.Plan, error) {
		p, err := reconcile.PlanSpecs(ctx, api, loaded, reconcile.PlanOptions{Now: time.Now(), Preflight: true})
		if err != nil {
			return nil, err
		}
		return p, render.Text(out, p, render.TextOptions{Color: color})
	}

	head("$ felhom plan %s", specDir)
	first, err := planOnce()
	if err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}

	head("$ felhom apply --auto-approve %s", specDir)
	res := reconcile.Apply(ctx, api, first, reconcile.Options{Specs: specs})
	if err := render.ResultText(out, res, render.TextOptions{Color: color}); err != nil {
		return err
	}
	if res.Failed() {
		return withExit(exitError, fmt.Errorf("demo: apply failed"))
	}
	head("$ felhom plan %s   # again: nothing left to change", specDir)
	again, err := planOnce()
	if err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}
	if again.HasChanges() {
		return withExit(exitError, fmt.Errorf("demo: the second plan still has changes"))
	}

	// The hand changes, as an admin running pct set would make them, on
	// applied containers whose felhom snapshot keeps the baseline that tells
	// drift from a spec change: one whose drift policy is revert and that
	// sets its memory gets 1 GiB more (in the examples, web), and one whose
	// drift policy is report and that sets its cores gets 2 more (db), when
	// the specs have one.
	var revert, report *reconcile.ContainerResult
	var specMiB int64
	var specCores int
	for i, c := range res.Containers {
		if c.Outcome != reconcile.OutcomeApplied || c.Snapshot == "" {
			continue
		}
		for _, sc := range specs {
			switch {
			case sc.Spec.VMID != c.VMID:
			case revert == nil && sc.Spec.Drift == spec.DriftRevert && sc.Spec.Memory != nil:
				revert, specMiB = &res.Containers[i], int64(*sc.Spec.Memory)/(1<<20)
			case report == nil && sc.Spec.Drift == spec.DriftReport && sc.Spec.Cores != nil:
				report, specCores = &res.Containers[i], *sc.Spec.Cores
			}
		}
	}
	if revert == nil {
		return fmt.Errorf("demo: no example container with drift: revert was snapshotted and sets its memory; nothing to drift")
	}
	type handChange struct {
		ct       *reconcile.ContainerResult
		key, val string
		says     string
	}
	hands := []handChange{{revert, "memory", strconv.FormatInt(specMiB+1024, 10), fmt.Sprintf("%d MiB", specMiB)}}
	what := fmt.Sprintf("ct %d %s more memory", revert.VMID, revert.Name)
	if report != nil {
		hands = append(hands, handChange{report, "cores", strconv.Itoa(specCores + 2), strconv.Itoa(specCores)})
		what += fmt.Sprintf(" and ct %d %s more cores", report.VMID, report.Name)
	}
	head("# an admin gives %s by hand (here through the API)", what)
	for _, h := range hands {
		if _, err := api.SetConfig(ctx, h.ct.Node, h.ct.VMID, pve.ConfigChange{Set: map[string]string{h.key: h.val}}); err != nil {
			return fmt.Errorf("demo: hand change: %w", err)
		}
		fmt.Fprintf(out, "pct set %d --%s %s   # its spec says %s\n", h.ct.VMID, h.key, h.val, h.says)
	}

	if report != nil {
		head("$ felhom plan %s   # hand changes show as drift: %s's drift: revert plans it back, %s's drift: report leaves it",
			specDir, revert.Name, report.Name)
	} else {
		head("$ felhom plan %s   # the hand change shows as drift; drift: revert plans it back", specDir)
	}
	if _, err := planOnce(); err != nil {
		return fmt.Errorf("demo: plan: %w", err)
	}
	if err := demoDaemon(ctx, out, head, api, specDir); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThat was felhom. Next: felhom sim --inventory %s, then point felhom plan at it (see README).\n", invPath)
	return nil
}

// demoDaemon shows felhom daemon on a copy of the specs in a watched
// folder: its first resync reverts the hand change of drift: revert and
// reports the one of drift: report, a changed spec is applied, and a new
// hand change is reverted at the next resync. The daemon's log lines (the
// cycles and changes, not each apply step) go to out.
func demoDaemon(ctx context.Context, out io.Writer, head func(string, ...any), api *pve.Client, specDir string) error {
	dir, err := os.MkdirTemp("", "felhom-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(specDir)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	src, err := source.NewDir(source.DirConfig{Path: dir, Quiet: 100 * time.Millisecond}, nil)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	log := slog.New(demoLogHandler{slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})})
	loop, err := daemon.New(daemon.Options{Source: src, API: api, Log: log, Resync: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// felhom snapshot names have a resolution of a second: the daemon's
	// first change to web must not share the apply's second above.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	head("$ felhom daemon --source-dir %s --resync 2s   # on a copy of %s; its first resync finds the hand changes", dir, specDir)
	run, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go src.Run(run)
	go func() { defer close(done); loop.Run(run) }()
	// waitCycle waits for a cycle started after mark that passes ok.
	waitCycle := func(mark time.Time, ok func(daemon.CycleRecord) bool) error {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, c := range loop.Status().Cycles {
				if !c.Started.Before(mark) && ok(c) {
					return nil
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return errors.New("demo: the daemon did not get there in 30s")
	}
	anyChange := func(c daemon.CycleRecord) bool { return len(c.Changed) > 0 }
	if err := waitCycle(time.Time{}, anyChange); err != nil {
		return err
	}

	web := filepath.Join(dir, "web.yaml")
	b, err := os.ReadFile(web)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	head("# a change lands in the folder (as a git pull would bring it): web.yaml memory 2G → 3G")
	mark := time.Now()
	if err := os.WriteFile(web, bytes.Replace(b, []byte("memory: 2G"), []byte("memory: 3G"), 1), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := waitCycle(mark, func(c daemon.CycleRecord) bool { return c.Kind == daemon.KindChange && len(c.Changed) > 0 }); err != nil {
		return err
	}

	head("# an admin runs pct set 101 --cores 4 by hand; the next resync reverts it (drift: revert)")
	if _, err := api.SetConfig(ctx, "pve1", 101, pve.ConfigChange{Set: map[string]string{"cores": "4"}}); err != nil {
		return fmt.Errorf("demo: hand change: %w", err)
	}
	mark = time.Now()
	if err := waitCycle(mark, func(c daemon.CycleRecord) bool { return c.Kind == daemon.KindResync && len(c.Changed) > 0 }); err != nil {
		return err
	}
	stop()
	<-done
	head("# the daemon's /status, in short")
	st := loop.Status()
	fmt.Fprintf(out, "revision %s, %d cycles\n", st.Revision, len(st.Cycles))
	for _, c := range st.Containers {
		line := fmt.Sprintf("ct %d %s: %s", c.VMID, c.Name, c.State)
		if len(c.Drift) > 0 {
			line += fmt.Sprintf(", drift %s (%s)", strings.Join(c.Drift, ", "), c.DriftPolicy)
		}
		if c.Error != "" {
			line += ": " + c.Error
		}
		fmt.Fprintln(out, line)
	}
	return nil
}

// demoLogHandler shows the daemon's cycles and changes, not every apply
// step.
type demoLogHandler struct{ slog.Handler }

func (h demoLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "apply: ") || strings.HasPrefix(r.Message, "source: ") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h demoLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return demoLogHandler{h.Handler.WithAttrs(as)}
}

func (h demoLogHandler) WithGroup(name string) slog.Handler {
	return demoLogHandler{h.Handler.WithGroup(name)}
}
