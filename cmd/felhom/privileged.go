package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/reconcile"
)

// privilegedBackend builds the privileged backend from the privileged
// section of --config (none: switched off). host is privileged.LocalHost()
// outside tests: the backend writes only as root on the container's own
// node, and that is checked on the machine, never taken from the
// configuration. Each pct run is logged to log.
func privilegedBackend(g *globalOptions, host privileged.Host, log *slog.Logger) (*privileged.Runner, error) {
	var cfg privileged.Config
	if g.configFile != "" {
		data, err := os.ReadFile(g.configFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if cfg, err = privileged.ParseConfig(data); err != nil {
			return nil, fmt.Errorf("%s: %w", g.configFile, err)
		}
	}
	return privileged.New(cfg, host, log), nil
}

// rootPlanOptions are cliPlanOptions with the backend's view of this host,
// so root-only changes are routed to it where it may write.
func rootPlanOptions(concurrency int, root *privileged.Runner) reconcile.PlanOptions {
	o := cliPlanOptions(concurrency)
	o.Root = root.Status()
	return o
}
