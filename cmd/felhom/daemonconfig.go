package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/daemon"
	"github.com/felhom/felhom/spec"
	"github.com/felhom/felhom/spec/source"
)

// daemonConfig is felhom daemon's configuration file (examples/daemon.yaml).
// The PVE connection is not in it: it comes from --config and FELHOM_PVE_*,
// as for every other command.
type daemonConfig struct {
	// Source is where the specs come from: dir: or git: (spec/source).
	Source source.Config `yaml:"source"`
	// StateDir holds the git clone (default /var/lib/felhom, systemd's
	// StateDirectory).
	StateDir string `yaml:"state_dir"`
	// Listen is the HTTP address of /healthz, /readyz, /status and /metrics
	// (default 127.0.0.1:9180); "" with listen: off is none.
	Listen string `yaml:"listen"`
	// Mode is apply (default) or plan.
	Mode daemon.Mode `yaml:"mode"`
	// Resync is the full-resync interval (default 10m).
	Resync time.Duration `yaml:"resync"`
	// Backoff bounds a failing container's backoff.
	Backoff struct {
		Initial time.Duration `yaml:"initial"`
		Max     time.Duration `yaml:"max"`
	} `yaml:"backoff"`
	// Concurrency is how many containers are worked on at once; LockWait
	// how long apply waits for a container's lock; OnFailure overrides
	// every spec's snapshot.on-failure when set.
	Concurrency int            `yaml:"concurrency"`
	LockWait    time.Duration  `yaml:"lock_wait"`
	OnFailure   spec.OnFailure `yaml:"on_failure"`
	// Webhook, when its secret file is set, serves POST /webhook: a
	// forge's signed push (GitHub, Gitea/Forgejo, GitLab) starts a cycle,
	// which fetches the source at once.
	Webhook struct {
		SecretFile string `yaml:"secret_file"`
	} `yaml:"webhook"`
	// ShutdownTimeout bounds how long SIGTERM waits for running tasks
	// (default 10m).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

const (
	defaultListen   = "127.0.0.1:9180"
	defaultStateDir = "/var/lib/felhom"
)

// parseDaemonConfig reads a daemon configuration; unknown keys are errors.
func parseDaemonConfig(data []byte) (daemonConfig, error) {
	var c daemonConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return daemonConfig{}, err
	}
	if c.Source.Dir == nil && c.Source.Git == nil {
		return daemonConfig{}, errors.New("source: name one of dir: or git:")
	}
	if err := c.Source.Validate(); err != nil {
		return daemonConfig{}, err
	}
	switch c.Mode {
	case "", daemon.ModeApply, daemon.ModePlan:
	default:
		return daemonConfig{}, fmt.Errorf("mode %q: must be apply or plan", c.Mode)
	}
	switch c.OnFailure {
	case "", spec.OnFailureRollback, spec.OnFailureLeave:
	default:
		return daemonConfig{}, fmt.Errorf("on_failure %q: must be rollback or leave", c.OnFailure)
	}
	if c.Concurrency < 0 {
		return daemonConfig{}, fmt.Errorf("concurrency %d: must be at least 1", c.Concurrency)
	}
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.StateDir == "" {
		c.StateDir = defaultStateDir
	}
	if c.Concurrency == 0 {
		c.Concurrency = reconcile.DefaultConcurrency
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Minute
	}
	return c, nil
}

// loadDaemonConfig reads the file, or (without one) makes the configuration
// of a directory source from --source-dir; flags given win over the file.
func loadDaemonConfig(o daemonOptions) (daemonConfig, error) {
	var data []byte
	switch {
	case o.file != "":
		b, err := os.ReadFile(o.file)
		if err != nil {
			return daemonConfig{}, fmt.Errorf("daemon config: %w", err)
		}
		data = b
	case o.sourceDir != "":
		data = []byte("source:\n  dir:\n    path: " + yamlQuote(o.sourceDir) + "\n")
	default:
		return daemonConfig{}, errors.New("daemon: give --daemon-config FILE or --source-dir DIR")
	}
	c, err := parseDaemonConfig(data)
	if err != nil {
		if o.file != "" {
			return daemonConfig{}, fmt.Errorf("daemon config %s: %w", o.file, err)
		}
		return daemonConfig{}, fmt.Errorf("daemon: %w", err)
	}
	if o.file != "" && o.sourceDir != "" {
		c.Source = source.Config{Dir: &source.DirConfig{Path: o.sourceDir}}
	}
	if o.listen != "" {
		c.Listen = o.listen
	}
	if o.mode != "" {
		if o.mode != string(daemon.ModeApply) && o.mode != string(daemon.ModePlan) {
			return daemonConfig{}, fmt.Errorf("daemon: --mode %q: must be apply or plan", o.mode)
		}
		c.Mode = daemon.Mode(o.mode)
	}
	if o.stateDir != "" {
		c.StateDir = o.stateDir
	}
	if o.resync > 0 {
		c.Resync = o.resync
	}
	return c, nil
}

func yamlQuote(s string) string {
	b, _ := yaml.Marshal(s)
	return string(bytes.TrimSpace(b))
}
