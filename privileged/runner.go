package privileged

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request is one `pct set`: the root-only keys of one container to set and
// to delete, and the config digest they must match.
type Request struct {
	// Node is the node the container is on (from the plan). The backend
	// runs only on that node.
	Node string
	// VMID is the container.
	VMID int
	// Set are config keys and values in PVE's form ("mp0" →
	// "/srv/data,mp=/data"), each a root-only write (KeyOp).
	Set map[string]string
	// Delete are root-only keys to delete (devN, features, hookscript).
	Delete []string
	// Digest is the config digest the write must match (required).
	Digest string
}

// Runner runs `pct set` for root-only config writes. Build it with New.
type Runner struct {
	cfg  Config
	host Host
	log  *slog.Logger
}

// New returns a Runner for cfg on host (LocalHost in production). log gets
// one record per pct run; nil discards them.
func New(cfg Config, host Host, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg.withDefaults(), host: host, log: log}
}

// Status is what the backend found out about where it runs: the plan's
// input (the plan itself stays pure; Status.For decides per node).
type Status struct {
	// Enabled is the configuration's switch.
	Enabled bool
	// UID is felhom's effective user id.
	UID int
	// Node is the local node's name as PVE knows it; "" when NodeErr says
	// why it is unknown.
	Node    string
	NodeErr string
	// PCTErr says why pct cannot run ("" when it is an executable file).
	PCT    string
	PCTErr string
}

// Status looks at the host: uid, node name, pct. It runs nothing.
func (r *Runner) Status() Status {
	s := Status{Enabled: r.cfg.Enabled, PCT: r.cfg.PCT, UID: -1}
	if !s.Enabled {
		return s
	}
	if r.host.UID != nil {
		s.UID = r.host.UID()
	}
	if r.host.NodeName != nil {
		name, err := r.host.NodeName()
		if err != nil {
			s.NodeErr = err.Error()
		} else {
			s.Node = name
		}
	} else {
		s.NodeErr = "no node name lookup"
	}
	if fi, err := os.Stat(r.cfg.PCT); err != nil {
		s.PCTErr = err.Error()
	} else if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		s.PCTErr = r.cfg.PCT + " is not an executable file"
	}
	return s
}

// For says whether the backend may write a container on node: nil, or an
// *UnavailableError with the reason and what would enable it. It is pure.
func (s Status) For(node string) error {
	where := "on node " + node
	switch {
	case !s.Enabled:
		return &UnavailableError{Reason: "the privileged backend is not enabled",
			Enable: "set privileged.enabled: true in felhom's config and run felhom as root " + where}
	case s.UID != 0:
		return &UnavailableError{Reason: fmt.Sprintf("felhom runs as uid %d, not root", s.UID),
			Enable: "run felhom as root " + where}
	case s.NodeErr != "":
		return &UnavailableError{Reason: "cannot tell which PVE node felhom runs on: " + s.NodeErr,
			Enable: "run felhom as root " + where}
	case s.Node != node:
		return &UnavailableError{Reason: fmt.Sprintf("felhom runs on node %s, the container is on %s", s.Node, node),
			Enable: "run felhom as root " + where}
	case s.PCTErr != "":
		return &UnavailableError{Reason: "pct cannot run: " + s.PCTErr,
			Enable: "set privileged.pct to PVE's pct (" + DefaultPCT + ")"}
	}
	return nil
}

// Available is Status().For(node): whether the backend may write a
// container on node now.
func (r *Runner) Available(node string) error { return r.Status().For(node) }

// Argv checks req and returns the command that carries it: pct, set, the
// VMID, --delete with the keys to delete, one --KEY VALUE per key to set
// (keys in PVE's order: mp2 before mp10), and --digest. Every value is
// parsed by pve/format first; a bad one is a *ValueError and nothing runs.
func (r *Runner) Argv(req Request) ([]string, error) {
	if req.VMID < 100 || req.VMID > 999999999 {
		return nil, &ValueError{Key: "vmid", Msg: fmt.Sprintf("%d is not a VMID (100..999999999)", req.VMID)}
	}
	if !digestRE.MatchString(req.Digest) {
		return nil, &ValueError{Key: "digest", Msg: "want the config digest PVE reported (40 hex digits); a write without one could overwrite a change made since the plan"}
	}
	if len(req.Set)+len(req.Delete) == 0 {
		return nil, &ValueError{Key: "vmid", Msg: "nothing to set or delete"}
	}
	argv := []string{r.cfg.PCT, "set", strconv.Itoa(req.VMID)}
	if len(req.Delete) > 0 {
		del := slices.Clone(req.Delete)
		slices.SortFunc(del, keyCompare)
		for _, k := range del {
			if err := checkDelete(k); err != nil {
				return nil, err
			}
			if _, both := req.Set[k]; both {
				return nil, &ValueError{Key: k, Msg: "both set and deleted"}
			}
		}
		argv = append(argv, "--delete", strings.Join(del, ","))
	}
	keys := make([]string, 0, len(req.Set))
	for k := range req.Set {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, keyCompare)
	for _, k := range keys {
		if _, err := check(k, req.Set[k]); err != nil {
			return nil, err
		}
		argv = append(argv, "--"+k, req.Set[k])
	}
	return append(argv, "--digest", req.Digest), nil
}

// keyCompare orders config keys as PVE lists them: by name, an index
// compared as a number (mp2 before mp10).
func keyCompare(a, b string) int {
	pa, na := splitIndex(a)
	pb, nb := splitIndex(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	return na - nb
}

func splitIndex(k string) (string, int) {
	i := len(k)
	for i > 0 && k[i-1] >= '0' && k[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(k[i:])
	if err != nil {
		return k, -1
	}
	return k[:i], n
}

// maxOutput bounds what is kept of pct's output.
const maxOutput = 64 << 10

// Set carries req with `pct set`, after checking that the backend may run
// here (Available: an *UnavailableError otherwise) and every value (Argv:
// a *ValueError). A run that fails is an *ExecError with PVE's message. The
// run is logged: argv, duration, exit status.
func (r *Runner) Set(ctx context.Context, req Request) error {
	if err := r.Available(req.Node); err != nil {
		return fmt.Errorf("ct %d: %w", req.VMID, err)
	}
	argv, err := r.Argv(req)
	if err != nil {
		return fmt.Errorf("ct %d: %w", req.VMID, err)
	}
	return r.run(ctx, argv)
}

// SetConfig is Set with the request spelled out: the form reconcile's
// Privileged interface takes.
func (r *Runner) SetConfig(ctx context.Context, node string, vmid int, set map[string]string, del []string, digest string) error {
	return r.Set(ctx, Request{Node: node, VMID: vmid, Set: set, Delete: del, Digest: digest})
}

// run runs argv with the timeout and a clean environment, and logs it.
func (r *Runner) run(ctx context.Context, argv []string) error {
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.Timeout, ErrTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}, r.cfg.Env...)
	cmd.Dir = "/"
	var stdout, stderr capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	r.log.Info("privileged: ran", "argv", strings.Join(argv, " "), "duration", took.Round(time.Millisecond), "exit", code)
	if err == nil {
		return nil
	}
	e := &ExecError{Argv: argv, ExitCode: code, Duration: took, Stderr: stderr.String()}
	e.Status, e.Message, e.Params = parseStderr(e.Stderr)
	var ee *exec.ExitError
	switch {
	case errors.Is(context.Cause(ctx), ErrTimeout):
		e.Err = fmt.Errorf("%w after %s (killed)", ErrTimeout, r.cfg.Timeout)
		e.ExitCode = -1
	case ctx.Err() != nil:
		e.Err = fmt.Errorf("cancelled (killed): %w", context.Cause(ctx))
		e.ExitCode = -1
	case errors.As(err, &ee):
		if e.Message == "" {
			e.Message = "pct printed nothing on stderr"
		}
	default:
		e.Err = err
	}
	return e
}

// capped keeps the first maxOutput bytes written to it.
type capped struct{ b bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.b.String() }
