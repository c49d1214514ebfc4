package pve

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/testref"
	"github.com/google/go-cmp/cmp"
)

var sentinels = []error{ErrNotFound, ErrLocked, ErrStaleDigest, ErrPermission, ErrAuth, ErrParam}

// checkIs asserts that err matches exactly the sentinels in want.
func checkIs(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, s := range sentinels {
		w := false
		for _, x := range want {
			w = w || x == s
		}
		if got := errors.Is(err, s); got != w {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, w)
		}
	}
}

// TestErrorForms: PVE 8.4+ sends the message in the body and the reason
// phrase; older servers only in the reason phrase. Both must give the same
// APIError, with the same errors.Is answers.
func TestErrorForms(t *testing.T) {
	pve9Param := testref.Read(t, "pve-api/responses/error-400-param-verification.pve9.json")
	oldEmpty := testref.Read(t, "pve-api/responses/error-403-500-body.pre-8.4.json")
	const schemaMsg = "property is not defined in schema and the schema does not allow additional properties"
	tests := []struct {
		name    string
		code    int
		reason  string
		current []byte // 8.4+ body
		old     []byte // pre-8.4 body
		want    APIError
		is      []error
	}{{
		name:    "parameter verification",
		code:    400,
		reason:  "Parameter verification failed.",
		current: pve9Param,
		old:     []byte(`{"data":null,"errors":{"vmstate":"` + schemaMsg + `"}}`),
		want:    APIError{StatusCode: 400, Message: "Parameter verification failed.", Params: map[string]string{"vmstate": schemaMsg}},
		is:      []error{ErrParam},
	}, {
		name:    "permission",
		code:    403,
		reason:  "Permission check failed (/vms/100, VM.Config.Memory)",
		current: []byte(`{"data":null,"message":"Permission check failed (/vms/100, VM.Config.Memory)\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 403, Message: "Permission check failed (/vms/100, VM.Config.Memory)", PermPath: "/vms/100", Privilege: "VM.Config.Memory"},
		is:      []error{ErrPermission},
	}, {
		name:    "permission any-of",
		code:    403,
		reason:  "Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)",
		current: []byte(`{"data":null,"message":"Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)\n"}`),
		old:     oldEmpty,
		want: APIError{StatusCode: 403, Message: "Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)",
			PermPath: "/vms/100", Privilege: "VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options"},
		is: []error{ErrPermission},
	}, {
		name:    "permission custom text",
		code:    403,
		reason:  "Permission check failed (mount point type bind is only allowed for root@pam)",
		current: []byte(`{"data":null,"message":"Permission check failed (mount point type bind is only allowed for root@pam)\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 403, Message: "Permission check failed (mount point type bind is only allowed for root@pam)"},
		is:      []error{ErrPermission},
	}, {
		name:    "locked",
		code:    500,
		reason:  "CT is locked (backup)",
		current: []byte(`{"data":null,"message":"CT is locked (backup)\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 500, Message: "CT is locked (backup)", Lock: "backup"},
		is:      []error{ErrLocked},
	}, {
		name:    "config lock timeout",
		code:    500,
		reason:  "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout",
		current: []byte(`{"data":null,"message":"can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 500, Message: "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout"},
		is:      []error{ErrLocked},
	}, {
		name:    "stale digest",
		code:    500,
		reason:  "detected modified configuration - file changed by other user? Try again.",
		current: []byte(`{"data":null,"message":"detected modified configuration - file changed by other user? Try again.\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 500, Message: "detected modified configuration - file changed by other user? Try again."},
		is:      []error{ErrStaleDigest},
	}, {
		name:    "missing container",
		code:    500,
		reason:  "Configuration file 'nodes/pve/lxc/999.conf' does not exist",
		current: []byte(`{"data":null,"message":"Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 500, Message: "Configuration file 'nodes/pve/lxc/999.conf' does not exist"},
		is:      []error{ErrNotFound},
	}, {
		name:    "404",
		code:    404,
		reason:  "Not Found",
		current: []byte(`{"data":null,"message":"Not Found\n"}`),
		old:     nil,
		want:    APIError{StatusCode: 404, Message: "Not Found"},
		is:      []error{ErrNotFound},
	}, {
		// 401 has an empty body in every version (pve-semantics.md §9).
		name:    "authentication",
		code:    401,
		reason:  "Authentication failed!",
		current: nil,
		old:     nil,
		want:    APIError{StatusCode: 401, Message: "Authentication failed!"},
		is:      []error{ErrAuth},
	}, {
		name:    "plain die",
		code:    500,
		reason:  "unable to create CT 100 - no such storage",
		current: []byte(`{"data":null,"message":"unable to create CT 100 - no such storage\n"}`),
		old:     oldEmpty,
		want:    APIError{StatusCode: 500, Message: "unable to create CT 100 - no such storage"},
		is:      nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]*APIError
			for i, body := range [][]byte{tt.current, tt.old} {
				f := setup(t)
				f.mux.HandleFunc("PUT /api2/json/nodes/pve/lxc/100/config", func(w http.ResponseWriter, r *http.Request) {
					writeRaw(t, w, tt.code, tt.reason, body)
				})
				_, err := f.c.SetConfig(context.Background(), "pve", 100, ConfigChange{Set: map[string]string{"memory": "512"}})
				if !errors.As(err, &got[i]) {
					t.Fatalf("form %d: %v is not an *APIError", i, err)
				}
				checkIs(t, err, tt.is...)
			}
			want := tt.want
			want.Method, want.Path = http.MethodPut, "/nodes/pve/lxc/100/config"
			if d := cmp.Diff(&want, got[0]); d != "" {
				t.Errorf("current form (-want +got):\n%s", d)
			}
			if d := cmp.Diff(got[0], got[1]); d != "" {
				t.Errorf("pre-8.4 form differs from the current form (-current +old):\n%s", d)
			}
		})
	}
}

// TestErrorPre84RealBody: the captured pre-8.4 400 (text only in the reason
// phrase, "errors" in the body).
func TestErrorPre84RealBody(t *testing.T) {
	body := testref.Read(t, "pve-api/responses/error-400-param-verification.pre-8.4.json")
	f := setup(t)
	f.mux.HandleFunc("POST /api2/json/nodes/pve/lxc/102/status/stop", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 400, "Parameter verification failed.", body)
	})
	_, err := f.c.Stop(context.Background(), "pve", 102)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%v is not an *APIError", err)
	}
	checkIs(t, err, ErrParam)
	if ae.Message != "Parameter verification failed." || !strings.HasPrefix(ae.Params["overrule-shutdown"], "property is not defined") {
		t.Errorf("%+v", ae)
	}
	want := "POST /nodes/pve/lxc/102/status/stop: 400 Parameter verification failed. (overrule-shutdown: property is not defined in schema and the schema does not allow additional properties)"
	if err.Error() != want {
		t.Errorf("error text\n got %q\nwant %q", err.Error(), want)
	}
}

// TestErrorNonJSONBody: a proxy's HTML page keeps the reason phrase.
func TestErrorNonJSONBody(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 502, "Bad Gateway", []byte("<html>bad gateway</html>"))
	})
	_, err := f.c.Version(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Message != "Bad Gateway" {
		t.Fatalf("%v", err)
	}
}

func TestTaskErrorIs(t *testing.T) {
	u := mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:vzdump:100:felhom@pve!ci:")
	tests := []struct {
		exit string
		is   []error
	}{
		{"CT is locked (snapshot)", []error{ErrLocked}},
		{"snapshot 'x' does not exist", []error{ErrNotFound}},
		{"Permission check failed (/vms/100, VM.Backup)", []error{ErrPermission}},
		{"job errors", nil},
	}
	for _, tt := range tests {
		err := error(&TaskError{UPID: u, ExitStatus: tt.exit})
		checkIs(t, err, tt.is...)
		if !strings.Contains(err.Error(), tt.exit) || !strings.Contains(err.Error(), u.String()) {
			t.Errorf("error text %q", err)
		}
	}
}

// TestErrorTextSaysEachThingOnce: an error from a client method names the
// request once, subject first ("GET /version: ..."), with no "pve:" prefix
// and no second subject from the method, whatever failed: PVE's answer, the
// connection, the body, the context while waiting to retry, a task. errors.Is
// and errors.As still reach the cause.
func TestErrorTextSaysEachThingOnce(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 401, "Authentication failed!", nil)
	})
	f.mux.HandleFunc("GET /api2/json/nodes", func(w http.ResponseWriter, r *http.Request) {
		resetConn(t, w)
	})
	f.mux.HandleFunc("GET /api2/json/nodes/pve/storage", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"storage":"local","total":"lots"}]}`))
	})
	f.mux.HandleFunc("POST /api2/json/nodes/pve/lxc/100/snapshot", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 500, "CT is locked (backup)", nil)
	})
	f.mux.HandleFunc("GET /api2/json/nodes/pve/lxc/100/config", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 500, "Configuration file 'nodes/pve/lxc/100.conf' does not exist", nil)
	})
	ctx := context.Background()
	_, errVersion := f.c.Version(ctx)
	_, errStorages := f.c.Storages(ctx, "pve")
	_, errSnap := f.c.CreateSnapshot(ctx, "pve", 100, "s1", "")
	_, errConfig := f.c.Config(ctx, "pve", 100, true)
	// The context ends while the client waits (an hour) to retry a GET
	// after a reset connection: the logger cancels it on "retrying".
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	retrying := slog.New(recordHook{slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}), func(r slog.Record) {
		if strings.Contains(r.Message, "retrying") {
			cancel()
		}
	}})
	_, errNodes := newTestClient(t, f.srv, f.logs, WithRetryBackoff(time.Hour), WithLogger(retrying)).Nodes(cctx)

	tests := []struct {
		err     error
		prefix  string // the whole subject, said once
		is      error
		wantAPI bool
	}{
		{errVersion, "GET /version: 401 Authentication failed!", ErrAuth, true},
		{errStorages, "GET /nodes/pve/storage: decode data: ", nil, false},
		{errSnap, "POST /nodes/pve/lxc/100/snapshot: 500 CT is locked (backup)", ErrLocked, true},
		{errConfig, "GET /nodes/pve/lxc/100/config: 500 Configuration file", ErrNotFound, true},
		{errNodes, "GET /nodes: ", context.Canceled, false},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.prefix)
			continue
		}
		msg := tt.err.Error()
		subject, _, _ := strings.Cut(tt.prefix, ": ")
		if !strings.HasPrefix(msg, tt.prefix) || strings.Count(msg, subject) != 1 || strings.Contains(msg, "pve:") {
			t.Errorf("error text %q: want it to start with %q and name %q once, without \"pve:\"", msg, tt.prefix, subject)
		}
		if tt.is != nil && !errors.Is(tt.err, tt.is) {
			t.Errorf("%q is not %v", msg, tt.is)
		}
		var ae *APIError
		if errors.As(tt.err, &ae) != tt.wantAPI {
			t.Errorf("%q: errors.As *APIError = %v", msg, !tt.wantAPI)
		}
	}

	// Mistakes caught before a request name their subject once.
	_, err := f.c.SetConfig(ctx, "pve", 100, ConfigChange{})
	if err == nil || err.Error() != "ct 100: set config: no changes" {
		t.Errorf("SetConfig: %v", err)
	}
	_, err = f.c.Containers(ctx, "")
	if err == nil || err.Error() != "GET /nodes/{node}/lxc: {node} is empty" {
		t.Errorf("Containers: %v", err)
	}
}

// recordHook is a slog.Handler that calls fn for each record it handles.
type recordHook struct {
	slog.Handler
	fn func(slog.Record)
}

func (h recordHook) Handle(ctx context.Context, r slog.Record) error {
	h.fn(r)
	return h.Handler.Handle(ctx, r)
}
