package pve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/wire"
)

// Sentinel errors. An *APIError (and a *TaskError) matches them with
// errors.Is, classified from the status and PVE's message.
var (
	// ErrNotFound: HTTP 404, or a message saying the object does not exist
	// ("Configuration file 'nodes/pve/lxc/999.conf' does not exist",
	// "snapshot 'x' does not exist", "no such task").
	ErrNotFound = errors.New("not found")
	// ErrLocked: the guest config carries a lock ("CT is locked (backup)"),
	// or its config file lock timed out ("can't lock file ... got timeout").
	ErrLocked = errors.New("locked")
	// ErrStaleDigest: the digest sent with a write no longer matches ("detected
	// modified configuration - file changed by other user? Try again.").
	ErrStaleDigest = errors.New("stale digest")
	// ErrPermission: HTTP 403, "Permission check failed (...)".
	ErrPermission = errors.New("permission denied")
	// ErrAuth: HTTP 401, the token was refused.
	ErrAuth = errors.New("authentication failed")
	// ErrParam: HTTP 400, typically "Parameter verification failed." with a
	// per-parameter map in APIError.Params.
	ErrParam = errors.New("invalid parameter")
)

// APIError is a non-2xx answer from the PVE API. CheckResponse builds it, and
// it is the only place one is built. PVE puts the message in the HTTP reason
// phrase and, since libpve-http-server-perl 5.2.0 (PVE 8.4), also in the body's
// "message"; both forms give the same APIError.
type APIError struct {
	StatusCode int    // HTTP status, e.g. 500
	Method     string // request method
	Path       string // request path below /api2/json, without the query
	// Message is PVE's message without the trailing newline: the body's
	// "message", else the HTTP reason phrase.
	Message string
	// Params is the per-parameter "errors" map of a 400 (parameter name →
	// reason), or of a failed hotplug. Nil when PVE sent none.
	Params map[string]string
	// PermPath and Privilege are parsed from "Permission check failed (/vms/100,
	// VM.Config.Memory)"; Privilege may list alternatives "A|B". Both are empty
	// for other messages; for a custom text ("mount point type bind is only
	// allowed for root@pam") Privilege is empty and the text stays in Message.
	PermPath, Privilege string
	// Lock is the lock named by "CT is locked (<lock>)", e.g. "backup".
	Lock string
}

// Error reads e.g. `PUT /nodes/pve/lxc/100/config: 500 CT is locked (backup)`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, e.Message)
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

// Is makes errors.Is(err, ErrLocked) and the other sentinels work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.StatusCode == http.StatusUnauthorized
	case ErrPermission:
		return e.StatusCode == http.StatusForbidden || strings.HasPrefix(e.Message, "Permission check failed")
	case ErrParam:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || (e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusForbidden && isNotFoundMessage(e.Message))
	case ErrLocked:
		return isLockedMessage(e.Message)
	case ErrStaleDigest:
		return isStaleMessage(e.Message)
	}
	return false
}

var (
	permRE   = regexp.MustCompile(`^Permission check failed \((.*)\)$`)
	lockedRE = regexp.MustCompile(`^(?:CT|VM) is locked \(([^)]*)\)`)
)

func isNotFoundMessage(m string) bool {
	return strings.Contains(m, "does not exist") || strings.HasPrefix(m, "no such ") || strings.Contains(m, ": no such ")
}

func isLockedMessage(m string) bool {
	return lockedRE.MatchString(m) || (strings.Contains(m, "can't lock file") && strings.Contains(m, "got timeout"))
}

func isStaleMessage(m string) bool {
	return strings.Contains(m, "detected modified configuration")
}

// CheckResponse returns nil for a 2xx response, else an *APIError built from
// the status line and body. It reads (at most 1 MiB of) the body of a failed
// response but does not close it. It is the one place API errors are made.
func CheckResponse(r *http.Response) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	e := &APIError{StatusCode: r.StatusCode}
	if r.Request != nil {
		e.Method = r.Request.Method
		if r.Request.URL != nil {
			e.Path = r.Request.URL.Path
			if i := strings.Index(e.Path, apiPrefix+"/"); i >= 0 {
				e.Path = e.Path[i+len(apiPrefix):]
			}
		}
	}
	// The reason phrase: Go keeps it in Status ("500 CT is locked (backup)").
	reason := strings.TrimSpace(strings.TrimPrefix(r.Status, strconv.Itoa(r.StatusCode)))
	var body struct {
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	if b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20)); err == nil && len(b) > 0 {
		// A body that is not PVE's JSON (a proxy's HTML page) leaves the
		// reason phrase as the message.
		if json.Unmarshal(b, &body) != nil {
			var loose struct {
				Message string                     `json:"message"`
				Errors  map[string]json.RawMessage `json:"errors"`
			}
			if json.Unmarshal(b, &loose) == nil {
				body.Message = loose.Message
				body.Errors = map[string]string{}
				for k, v := range loose.Errors {
					body.Errors[k] = wire.ScalarText(v)
				}
			}
		}
	}
	e.Message = strings.TrimRight(body.Message, "\n")
	if e.Message == "" {
		e.Message = reason
	}
	if e.Message == "" {
		e.Message = http.StatusText(r.StatusCode)
	}
	if len(body.Errors) > 0 {
		e.Params = make(map[string]string, len(body.Errors))
		for k, v := range body.Errors {
			e.Params[k] = strings.TrimRight(v, "\n")
		}
	}
	if m := permRE.FindStringSubmatch(e.Message); m != nil {
		if path, priv, ok := strings.Cut(m[1], ", "); ok && strings.HasPrefix(path, "/") {
			e.PermPath, e.Privilege = path, priv
		}
	}
	if m := lockedRE.FindStringSubmatch(e.Message); m != nil {
		e.Lock = m[1]
	}
	return e
}

// TaskError is a task that stopped with an exit status other than "OK" or
// "WARNINGS: n". It matches the same sentinels as APIError by its exit
// status (a vzdump that found the CT locked is errors.Is(err, ErrLocked)).
type TaskError struct {
	UPID       UPID
	ExitStatus string   // PVE's exitstatus: the error text, e.g. "snapshot feature is not available"
	LogTail    []string // the last lines of the task log (at most TaskLogTailLines)
}

// TaskLogTailLines is how many log lines a TaskError keeps.
const TaskLogTailLines = 20

// Error reads e.g. `task vzsnapshot 100 on pve (UPID:...): snapshot feature is not available`.
func (e *TaskError) Error() string {
	return fmt.Sprintf("task %s %s on %s (%s): %s", e.UPID.Type, e.UPID.ID, e.UPID.Node, e.UPID, e.ExitStatus)
}

// Is classifies the exit status like APIError.Is classifies a message.
func (e *TaskError) Is(target error) bool {
	switch target {
	case ErrPermission:
		return strings.Contains(e.ExitStatus, "Permission check failed")
	case ErrNotFound:
		return isNotFoundMessage(e.ExitStatus)
	case ErrLocked:
		return isLockedMessage(e.ExitStatus)
	case ErrStaleDigest:
		return isStaleMessage(e.ExitStatus)
	}
	return false
}
