package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
)

// The pct stand-in: `felhom sim pct set VMID --KEY VALUE...` performs
// `pct set` against a running `felhom sim` as root@pam would on a node
// (pve/pvesim/pct.go models what PVE's pct does), so felhom's privileged
// backend, which runs pct, is tested without a real node. The felhom binary
// called under the name pct (a symlink) is the same command, so
// privileged.pct can point at it.
const (
	envSimURL          = "FELHOM_SIM_URL"
	envSimFingerprint  = "FELHOM_SIM_FINGERPRINT"
	envSimControlToken = "FELHOM_SIM_CONTROL_TOKEN"
	envSimNode         = "FELHOM_SIM_NODE"
)

func newSimPctCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pct set VMID [--OPTION VALUE]...",
		Short: "Act as PVE's pct on a node of a running felhom sim (the privileged backend's stand-in)",
		Long: `Perform a pct command (only set) against a running felhom sim as root@pam
would on one of its nodes: PVE's parameter checks and messages, the digest,
locks, hotplug or pending, and bind and device mount points, devN, features
and hookscript, which no API token may set. It prints what pct would print and
exits as pct would (0, or 255 with PVE's message on stderr).

The simulator and the node come from the environment:
  ` + envSimURL + `, ` + envSimFingerprint + `, ` + envSimControlToken + ` (felhom sim prints them)
  ` + envSimNode + ` (the node pct runs on)

The felhom binary run under the name pct (ln -s felhom pct) is this command,
so felhom's privileged.pct can point at such a link.`,
		Example:            `  FELHOM_SIM_NODE=pve1 felhom sim pct set 101 --mp0 /srv/data,mp=/data --digest 0123...`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := runSimPct(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), os.Getenv, args); code != 0 {
				return withExit(code, nil)
			}
			return nil
		},
	}
}

// calledAsPct reports whether the binary runs under the name pct.
func calledAsPct(argv0 string) bool { return filepath.Base(argv0) == "pct" }

// runSimPct sends args to the simulator's pct endpoint, prints what pct
// printed and returns its exit status.
func runSimPct(ctx context.Context, stdout, stderr io.Writer, getenv func(string) string, args []string) int {
	url, fp, tok, node := getenv(envSimURL), getenv(envSimFingerprint), getenv(envSimControlToken), getenv(envSimNode)
	var missing []string
	for _, v := range []struct{ name, val string }{{envSimURL, url}, {envSimFingerprint, fp}, {envSimControlToken, tok}, {envSimNode, node}} {
		if v.val == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "felhom sim pct: set %s (felhom sim prints the simulator's; the node is the one pct runs on)\n", strings.Join(missing, ", "))
		return exitPct
	}
	res, err := postPct(ctx, url, fp, tok, node, args)
	if err != nil {
		fmt.Fprintf(stderr, "felhom sim pct: %v\n", err)
		return exitPct
	}
	io.WriteString(stdout, res.Stdout)
	io.WriteString(stderr, res.Stderr)
	return res.Exit
}

func postPct(ctx context.Context, url, fingerprint, token, node string, args []string) (pvesim.PctResult, error) {
	body, err := json.Marshal(map[string]any{"node": node, "args": args})
	if err != nil {
		return pvesim.PctResult{}, err
	}
	want := strings.ToUpper(fingerprint)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		// The simulator's certificate is self-signed: pinned by its
		// fingerprint instead of a CA.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || pve.CertFingerprint(raw[0]) != want {
				return errors.New("the simulator's certificate does not match " + envSimFingerprint)
			}
			return nil
		},
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/_felhom/sim/pct", bytes.NewReader(body))
	if err != nil {
		return pvesim.PctResult{}, err
	}
	req.Header.Set("Authorization", "FelhomSim "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return pvesim.PctResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return pvesim.PctResult{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return pvesim.PctResult{}, fmt.Errorf("simulator: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var res pvesim.PctResult
	if err := json.Unmarshal(b, &res); err != nil {
		return pvesim.PctResult{}, fmt.Errorf("simulator: %w", err)
	}
	return res, nil
}
