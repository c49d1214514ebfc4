package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/daemon"
	"github.com/felhom/felhom/spec/source"
)

type daemonOptions struct {
	global    *globalOptions
	file      string
	sourceDir string
	listen    string
	mode      string
	stateDir  string
	resync    time.Duration
	getenv    func(string) string
	// ready, when set, receives the HTTP address once it listens (tests,
	// the demo).
	ready func(addr string)
}

func newDaemonCommand(g *globalOptions) *cobra.Command {
	o := daemonOptions{global: g, getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "daemon (--daemon-config FILE | --source-dir DIR)",
		Short: "Reconcile continuously from a git branch or a folder; serve status, health and metrics",
		Long: `Run the reconcile loop: load the specs from the source (a git repository or a
folder, --daemon-config FILE; or --source-dir DIR), plan and apply them as
felhom apply does, and again whenever the source changes, on POST /reconcile,
and at every resync (full: every container is read again). A change of the
specs reads only the containers it changes. A revision that does not validate
is never applied: the last good one stays, and the error (file:line:column)
is logged, shown on /status and counted in felhom_revision_invalid.

A container that fails backs off (doubling, bounded) without holding up the
others; suspend: true in its spec, or POST /containers/VMID/suspend, pauses
it. With mode: plan (--mode plan) nothing is changed: drift and pending
changes are only reported.

HTTP (loopback by default, --listen): /healthz, /readyz, /status (JSON),
/metrics (Prometheus). Logs go to stderr, one line per cycle and per change:
--log-format text|json, --log-level debug|info|warn|error.

SIGTERM or SIGINT: start nothing new, wait for running tasks (bounded by
shutdown_timeout), leave no lock, exit 0. SIGHUP reloads the configuration
files (a broken one is logged and the old one kept).

The PVE connection comes from --config and FELHOM_PVE_*, as for felhom apply.`,
		Example: `  felhom daemon --config /etc/felhom/pve.yaml --daemon-config /etc/felhom/daemon.yaml
  felhom daemon --source-dir examples/containers --mode plan --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(cmd.Context(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "daemon-config", "", "the daemon's configuration file (YAML, examples/daemon.yaml)")
	f.StringVar(&o.sourceDir, "source-dir", "", "reconcile from this folder (watched), instead of the file's source")
	f.StringVar(&o.listen, "listen", "", "HTTP address for /healthz, /readyz, /status, /metrics (default "+defaultListen+")")
	f.StringVar(&o.mode, "mode", "", "apply (default) or plan: only observe and report")
	f.StringVar(&o.stateDir, "state-dir", "", "folder for the git clone (default "+defaultStateDir+")")
	f.DurationVar(&o.resync, "resync", 0, "interval of full resyncs (default 10m)")
	return cmd
}

func runDaemon(ctx context.Context, stderr io.Writer, o daemonOptions) error {
	log := o.global.logger(stderr, slog.LevelInfo)
	cfg, err := loadDaemonConfig(o)
	if err != nil {
		return withExit(exitInvalid, err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := daemon.NewMetrics(reg)

	inst, err := startDaemon(cfg, o, log, metrics)
	if err != nil {
		return err
	}
	var handler atomic.Pointer[http.Handler]
	h := inst.handler(reg, log)
	handler.Store(&h)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("daemon: listen: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	log.Info("daemon started", "source", inst.src.String(), "mode", string(inst.mode), "listen", ln.Addr().String(), "version", version)
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}

	for {
		inst.start(ctx)
		select {
		case <-ctx.Done():
			log.Info("stopping: no new work; waiting for running tasks", "timeout", cfg.ShutdownTimeout.String())
			err := inst.stop(cfg.ShutdownTimeout)
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			srv.Shutdown(shut)
			cancel()
			if err != nil {
				return err
			}
			log.Info("stopped")
			return nil
		case err := <-inst.failed:
			inst.stop(cfg.ShutdownTimeout)
			return fmt.Errorf("daemon: %w", err)
		case <-hup:
			next, err := loadDaemonConfig(o)
			var ni *daemonInstance
			if err == nil {
				ni, err = startDaemon(next, o, log, metrics)
			}
			if err != nil {
				log.Error("reload (SIGHUP) failed; the running configuration stays", "error", err)
				continue
			}
			log.Info("reloading (SIGHUP): waiting for running tasks")
			if err := inst.stop(cfg.ShutdownTimeout); err != nil {
				return err
			}
			if next.Listen != cfg.Listen {
				log.Warn("a new listen address takes a restart; still listening on the old one", "listen", cfg.Listen)
			}
			cfg, inst = next, ni
			h := inst.handler(reg, log)
			handler.Store(&h)
			log.Info("reloaded", "source", inst.src.String(), "mode", string(inst.mode))
		}
	}
}

// daemonInstance is one configuration at work: its source, loop and the
// goroutines running them.
type daemonInstance struct {
	src  source.Source
	loop *daemon.Loop
	mode daemon.Mode
	// webhook is the webhook's secret ("" when it is off).
	webhook source.Secret
	cancel  context.CancelFunc
	done    chan struct{}
	failed  chan error
	// running is true between start and stop.
	running bool
}

// startDaemon builds (but does not run) the source, the PVE client and the
// loop of cfg.
func startDaemon(cfg daemonConfig, o daemonOptions, log *slog.Logger, m *daemon.Metrics) (*daemonInstance, error) {
	pc, err := pve.LoadConfig(o.global.configFile, o.getenv)
	if err != nil {
		return nil, withExit(exitInvalid, fmt.Errorf("pve connection (--config, %s...): %w", pve.EnvURL, err))
	}
	if pc.MaxConcurrency == 0 {
		pc.MaxConcurrency = cfg.Concurrency
	}
	api, err := pve.New(pc, pve.WithLogger(log), pve.WithRequestObserver(m.ObserveRequest))
	if err != nil {
		return nil, err
	}
	// Root-only changes go to pct set when the privileged section of
	// --config enables it and the daemon runs as root on their node.
	root, err := privilegedBackend(o.global, privileged.LocalHost(), log)
	if err != nil {
		return nil, withExit(exitInvalid, err)
	}
	src, err := source.New(cfg.Source, cfg.StateDir, log)
	if err != nil {
		return nil, withExit(exitInvalid, fmt.Errorf("daemon: source: %w", err))
	}
	opts := daemon.Options{
		Source: src, API: api, Mode: cfg.Mode, Log: log, Resync: cfg.Resync, Metrics: m,
		BackoffInitial: cfg.Backoff.Initial, BackoffMax: cfg.Backoff.Max,
		Apply: reconcile.Options{Concurrency: cfg.Concurrency, LockWait: cfg.LockWait, OnFailure: cfg.OnFailure, Preflight: true, Privileged: root},
	}
	if cfg.Mode != daemon.ModePlan {
		// The specs' scheduled backups (issue 12); mode plan takes none.
		opts.Backups, opts.BackupLockWait = api, cfg.LockWait
	}
	loop, err := daemon.New(opts)
	if err != nil {
		return nil, withExit(exitInvalid, err)
	}
	mode := cfg.Mode
	if mode == "" {
		mode = daemon.ModeApply
	}
	d := &daemonInstance{src: src, loop: loop, mode: mode, failed: make(chan error, 2)}
	if f := cfg.Webhook.SecretFile; f != "" {
		if d.webhook, err = source.ReadSecretFile(f); err != nil {
			return nil, withExit(exitInvalid, fmt.Errorf("daemon: webhook: %w", err))
		}
	}
	return d, nil
}

// handler is the instance's HTTP handler: the loop's endpoints, and POST
// /webhook when a secret is configured.
func (d *daemonInstance) handler(reg prometheus.Gatherer, log *slog.Logger) http.Handler {
	h := d.loop.Handler(reg)
	if d.webhook == "" {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", source.NewWebhook(d.webhook, d.loop.Trigger, log))
	mux.Handle("/", h)
	return mux
}

// start runs the source and the loop until stop (a no-op when running).
func (d *daemonInstance) start(parent context.Context) {
	if d.running {
		return
	}
	d.running = true
	// The loop's context is not parent: a signal stops it through stop,
	// which lets the running cycle finish its tasks.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	d.cancel, d.done = cancel, make(chan struct{})
	srcDone := make(chan struct{})
	go func() {
		defer close(srcDone)
		if err := d.src.Run(ctx); err != nil {
			d.failed <- fmt.Errorf("source %s: %w", d.src, err)
		}
	}()
	go func() {
		defer close(d.done)
		if err := d.loop.Run(ctx); err != nil {
			d.failed <- err
		}
		<-srcDone
	}()
}

// stop asks the loop to start nothing new and waits up to timeout for it
// (and its running tasks) to end.
func (d *daemonInstance) stop(timeout time.Duration) error {
	if !d.running {
		return nil
	}
	d.running = false
	d.cancel()
	select {
	case <-d.done:
		return nil
	case <-time.After(timeout):
		return errors.New("daemon: tasks still running after the shutdown timeout; PVE finishes them and releases their locks")
	}
}

// daemonAddr is the URL of a listen address ("127.0.0.1:9180").
func daemonAddr(addr string) string {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	return "http://" + addr
}
