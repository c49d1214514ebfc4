// Command felhom keeps Proxmox VE containers in the state that YAML files in
// git say they should be in. This file is the composition root: it builds the
// command tree and maps errors to exit codes in one place.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C (or SIGTERM) only cancels ctx: apply awaits
		// the running task and reports. Then the default handling is
		// back, so a second one kills felhom at once instead of being
		// swallowed while a task is awaited (up to the step timeout).
		<-ctx.Done()
		stop()
	}()
	if calledAsPct(os.Args[0]) {
		// The pct stand-in under its own name (cmd_simpct.go).
		os.Exit(runSimPct(ctx, os.Stdout, os.Stderr, os.Getenv, os.Args[1:]))
	}
	root := newRootCommand()
	root.SetArgs(singleDashOut(root, os.Args[1:]))
	err := root.ExecuteContext(ctx)
	os.Exit(exitCode(ctx, err, root.ErrOrStderr()))
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	configFile string
	noColor    bool
	logFormat  string
	logLevel   string
}

func newRootCommand() *cobra.Command {
	var g globalOptions
	root := &cobra.Command{
		Use:           "felhom",
		Short:         "GitOps reconciler for Proxmox VE containers",
		Long:          "felhom keeps Proxmox VE LXC containers in the state that YAML specs in git describe.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "felhom config file (YAML; default $FELHOM_CONFIG, else ./felhom.yaml, else "+etcConfig+"); the FELHOM environment variables (README) override it")
	root.PersistentFlags().BoolVar(&g.noColor, "no-color", false, "no colour in output (as NO_COLOR=1)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "log level on stderr: debug, info, warn or error (default: each command's own: info for its progress, warn for the PVE client's warnings)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if err := g.checkLogFlags(); err != nil {
			return withExit(exitInvalid, err)
		}
		dir, err := os.Getwd()
		if err != nil {
			dir = "."
		}
		g.configFile = findConfig(g.configFile, os.Getenv, dir, etcConfig)
		if g.noColor {
			// The same switch as https://no-color.org's, which every
			// command already reads.
			return os.Setenv("NO_COLOR", "1")
		}
		return nil
	}
	root.AddCommand(
		newSelftestCommand(&g),
		newVersionCommand(),
		newScheduleCommand(),
		newSimCommand(),
		newValidateCommand(),
		newSchemaCommand(),
		newPlanCommand(&g),
		newApplyCommand(&g),
		newBackupCommand(&g),
		newImportCommand(&g),
		newDaemonCommand(&g),
		newDemoCommand(),
		newManCommand(),
	)
	return root
}
