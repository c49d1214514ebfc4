package privileged

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Sentinel errors an *ExecError matches with errors.Is, from PVE's message.
var (
	// ErrStaleDigest: the config changed since the digest was read
	// ("detected modified configuration - file changed by other user? Try
	// again.", PVE::Tools::assert_if_modified).
	ErrStaleDigest = errors.New("stale digest")
	// ErrLocked: the container carries a lock ("CT is locked (backup)") or
	// its config lock timed out.
	ErrLocked = errors.New("locked")
	// ErrParam: PVE refused a value ("400 Parameter verification failed."
	// with one line per parameter).
	ErrParam = errors.New("invalid parameter")
	// ErrPermission: "Permission check failed (...)", or pct's "please run
	// as root".
	ErrPermission = errors.New("permission denied")
	// ErrTimeout: pct did not end within the configured timeout and was
	// killed.
	ErrTimeout = errors.New("timed out")
	// ErrUnavailable: the backend may not run here (an *UnavailableError
	// says why).
	ErrUnavailable = errors.New("privileged backend unavailable")
)

// ExecError is a pct run that did not end with exit status 0.
type ExecError struct {
	// Argv is what ran (no secrets: values are config values).
	Argv []string
	// ExitCode is pct's exit status; -1 when it was killed or never ran.
	ExitCode int
	// Duration is how long it ran.
	Duration time.Duration
	// Status is the HTTP-style code PVE's CLI puts in front of an
	// exception (400, 403...); 0 for a plain die.
	Status int
	// Message is PVE's message without the code, the per-parameter lines
	// and the usage text: "Parameter verification failed.", "CT is
	// locked (backup)".
	Message string
	// Params are the per-parameter reasons of a 400 ("mp0" → "invalid
	// format - ..."); nil otherwise.
	Params map[string]string
	// Stderr is what pct printed on standard error (at most 64 KiB).
	Stderr string
	// Err is the cause when pct did not run or was killed (timeout).
	Err error
}

// Error reads "pct set 101: exit 255: 400 Parameter verification failed. (mp0: ...)".
func (e *ExecError) Error() string {
	var b strings.Builder
	b.WriteString("pct")
	if len(e.Argv) > 2 {
		b.WriteString(" " + e.Argv[1] + " " + e.Argv[2])
	}
	switch {
	case e.Err != nil && e.ExitCode < 0:
		fmt.Fprintf(&b, ": %v", e.Err)
		if e.Message == "" {
			return b.String()
		}
	default:
		fmt.Fprintf(&b, ": exit %d", e.ExitCode)
	}
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	b.WriteString(e.Message)
	if len(e.Params) > 0 {
		b.WriteString(" (")
		for i, k := range slices.Sorted(maps.Keys(e.Params)) {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", k, e.Params[k])
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause (a timeout's context error).
func (e *ExecError) Unwrap() error { return e.Err }

var lockedRE = regexp.MustCompile(`^(?:CT|VM) \d* ?is locked \(([^)]*)\)|^CT is locked`)

// Is makes errors.Is(err, ErrStaleDigest) and the other sentinels work.
func (e *ExecError) Is(target error) bool {
	switch target {
	case ErrStaleDigest:
		return strings.Contains(e.Message, "detected modified configuration")
	case ErrLocked:
		return lockedRE.MatchString(e.Message) || (strings.Contains(e.Message, "can't lock file") && strings.Contains(e.Message, "got timeout"))
	case ErrParam:
		return e.Status == 400
	case ErrPermission:
		return e.Status == 403 || strings.HasPrefix(e.Message, "Permission check failed") || e.Message == "please run as root"
	case ErrTimeout:
		return errors.Is(e.Err, ErrTimeout)
	}
	return false
}

// UnavailableError says why the backend may not make a change here, and
// what would let it.
type UnavailableError struct {
	// Reason is why, for people: "the privileged backend is not enabled".
	Reason string
	// Enable is what would let it: "set privileged.enabled: true in
	// felhom's config and run felhom as root on node pve1".
	Enable string
}

func (e *UnavailableError) Error() string { return e.Reason + " (" + e.Enable + ")" }

// Is matches ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// parseStderr reads what PVE's CLI prints for an exception
// (pve-common src/PVE/Exception.pm stringify): "CODE MSG\n" or "MSG\n",
// then "param: reason\n" per parameter error, then, for a parameter error
// on the command line, the usage text (pve-common RESTHandler.pm
// cli_handler adds it), which starts with "pct set" or "USAGE:".
func parseStderr(stderr string) (status int, msg string, params map[string]string) {
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	// Perl's warnings may come first; the exception is the last block that
	// is not usage text.
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return 0, "", nil
	}
	head := strings.TrimSpace(lines[0])
	if code, rest, ok := strings.Cut(head, " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '5' && isDigits(code) {
		status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
		head = rest
	}
	msg = head
	if status == 400 {
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "pct ") || strings.HasPrefix(l, "USAGE:") || strings.TrimSpace(l) == "" {
				break
			}
			k, v, ok := strings.Cut(l, ": ")
			if !ok {
				break
			}
			if params == nil {
				params = map[string]string{}
			}
			params[k] = v
		}
	}
	return status, msg, params
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
