package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
)

// defaultSimListen is where felhom sim listens unless told: loopback, on a
// port beside pveproxy's 8006 rather than on it, so running it on a PVE
// host cannot take or clash with the real API.
const defaultSimListen = "127.0.0.1:18006"

type simOptions struct {
	inventory    string
	listen       string
	state        string
	taskDuration time.Duration
	latency      time.Duration
	jitter       time.Duration
	authDelay    time.Duration
	workers      int
	legacyErrors bool
	allowRemote  bool
	controlToken string
}

func newSimCommand() *cobra.Command {
	var o simOptions
	cmd := &cobra.Command{
		Use:   "sim --inventory FILE",
		Short: "Serve a simulated PVE cluster over HTTPS (for demos, tests, CI)",
		Long: `Serve a simulated Proxmox VE 9 cluster, seeded from an inventory file, over
HTTPS with a freshly generated self-signed certificate. It prints the URL, the
certificate's SHA-256 fingerprint and the API tokens to use, and serves until
interrupted. It listens on loopback only unless --allow-remote is given.

With --state FILE the simulator writes its state there after every change and
starts from it (instead of the inventory) when the file exists, so containers,
snapshots and backups survive a restart.

Tests and benchmarks steer it through the control endpoint under /_felhom/sim/
(clock, latency, faults, task outcomes, held locks, request counts), which needs
the control token it prints. See pve/pvesim/README.md.`,
		Example: `  felhom sim --inventory examples/sim/inventory.yaml
  felhom sim --inventory examples/sim/inventory.yaml --listen 127.0.0.1:18006 --state /tmp/sim-state.yaml --task-duration 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.AddCommand(newSimPctCommand())
	f := cmd.Flags()
	f.StringVar(&o.inventory, "inventory", "", "inventory file (YAML): nodes, storages, containers, backups, users and tokens")
	f.StringVar(&o.listen, "listen", defaultSimListen, "address to listen on (not pveproxy's 8006, so it cannot clash on a PVE host)")
	f.StringVar(&o.state, "state", "", "state file: written after every change, loaded at start when it exists")
	f.DurationVar(&o.taskDuration, "task-duration", 2*time.Second, "how long each task runs")
	f.DurationVar(&o.latency, "latency", 0, "delay added to every API request")
	f.DurationVar(&o.jitter, "jitter", 0, "random extra delay, up to this much, per API request")
	f.IntVar(&o.workers, "workers", pvesim.DefaultWorkers, "API calls each node serves at once, as pveproxy's max_workers (0: no limit); calls beyond wait")
	f.DurationVar(&o.authDelay, "auth-failure-delay", 3*time.Second, "wait before answering a refused token (401), as pveproxy does")
	f.BoolVar(&o.legacyErrors, "legacy-errors", false, "answer errors in the pre-8.4 form (message only in the HTTP reason phrase)")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	f.StringVar(&o.controlToken, "control-token", "", "secret for the control endpoint (default: generated and printed)")
	return cmd
}

func runSim(ctx context.Context, out io.Writer, o simOptions) error {
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return withExit(exitInvalid, fmt.Errorf("sim: --listen %q: %w", o.listen, err))
	}
	if !o.allowRemote && !isLoopback(host) {
		return withExit(exitInvalid, fmt.Errorf("sim: --listen %q is not a loopback address; pass --allow-remote to serve beyond this machine", o.listen))
	}
	inv, from, err := simInventory(o)
	if err != nil {
		return withExit(exitInvalid, err)
	}
	opts := []pvesim.Option{
		pvesim.WithTaskDuration(o.taskDuration),
		pvesim.WithLatency(pvesim.Latency{Fixed: o.latency, Jitter: o.jitter}),
		pvesim.WithAuthFailureDelay(o.authDelay),
		pvesim.WithWorkers(o.workers),
	}
	if o.legacyErrors {
		opts = append(opts, pvesim.WithLegacyErrors())
	}
	if o.state != "" {
		opts = append(opts, pvesim.WithStateFile(o.state))
	}
	if o.controlToken != "" {
		opts = append(opts, pvesim.WithControlToken(o.controlToken))
	}
	sim, err := pvesim.New(inv, opts...)
	if err != nil {
		return withExit(exitInvalid, fmt.Errorf("sim: %s: %w", from, err))
	}
	srv, err := sim.ListenAndServeTLS(o.listen)
	if err != nil {
		return fmt.Errorf("sim: cannot listen on %s (another felhom sim or a service holds it? choose one with --listen): %w", o.listen, err)
	}
	defer srv.Close()
	printSimBanner(out, inv, from, srv, sim)
	<-ctx.Done()
	fmt.Fprintln(out, "felhom sim: stopping")
	return nil
}

// simInventory reads the state file when it exists, else the inventory.
func simInventory(o simOptions) (*pvesim.Inventory, string, error) {
	if o.state != "" {
		inv, err := pvesim.LoadInventory(o.state)
		if err == nil {
			return inv, o.state, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("sim: state: %w", err)
		}
	}
	if o.inventory == "" {
		return nil, "", fmt.Errorf("sim: --inventory is required (or an existing --state file)")
	}
	inv, err := pvesim.LoadInventory(o.inventory)
	if err != nil {
		return nil, "", fmt.Errorf("sim: %w", err)
	}
	return inv, o.inventory, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func printSimBanner(out io.Writer, inv *pvesim.Inventory, from string, srv *pvesim.Server, sim *pvesim.Sim) {
	cts := 0
	for _, n := range inv.Nodes {
		cts += len(n.Containers)
	}
	fmt.Fprintf(out, "felhom sim: simulated PVE 9 cluster %q from %s: %d node(s), %d container(s)\n", inv.Cluster, from, len(inv.Nodes), cts)
	fmt.Fprintf(out, "  URL:          %s (API under /api2/json)\n", srv.URL)
	fmt.Fprintf(out, "  fingerprint:  %s\n", srv.Fingerprint)
	for _, t := range sim.Tokens() {
		fmt.Fprintf(out, "  token:        PVEAPIToken=%s=%s\n", t.TokenID, t.Secret)
	}
	fmt.Fprintf(out, "  control:      Authorization: FelhomSim %s (under /_felhom/sim/)\n", sim.ControlToken())
	// The environment for felhom uses the first token of the first user
	// that has one, in inventory order.
	for _, u := range inv.Users {
		if len(u.Tokens) == 0 {
			continue
		}
		t, ok := sim.Token(u.ID + "!" + u.Tokens[0].Name)
		if !ok {
			break
		}
		fmt.Fprintln(out, "environment for felhom:")
		fmt.Fprintf(out, "  export %s=%s\n", pve.EnvURL, srv.URL)
		fmt.Fprintf(out, "  export %s=%s\n", pve.EnvFingerprint, srv.Fingerprint)
		fmt.Fprintf(out, "  export %s='%s'\n", pve.EnvTokenID, t.TokenID)
		fmt.Fprintf(out, "  export %s=%s\n", pve.EnvTokenSecret, t.Secret)
		break
	}
	if len(inv.Nodes) > 0 {
		fmt.Fprintln(out, "environment for the pct stand-in (felhom sim pct, or felhom linked as pct):")
		fmt.Fprintf(out, "  export %s=%s %s=%s %s=%s %s=%s\n", envSimURL, srv.URL, envSimFingerprint, srv.Fingerprint,
			envSimControlToken, sim.ControlToken(), envSimNode, inv.Nodes[0].Name)
	}
	fmt.Fprintf(out, "serving until interrupted: Ctrl-C, or kill %d\n", os.Getpid())
}
