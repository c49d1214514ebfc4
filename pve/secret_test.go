package pve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestSecretRedacts(t *testing.T) {
	s := Secret(testSecret)
	cfg := Config{URL: "https://pve:8006", TokenID: testTokenID, TokenSecret: s}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg))
	}
	outs = append(outs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s), fmt.Sprint([]Secret{s}))
	for _, v := range []any{s, cfg, map[string]any{"k": s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(y))
	}
	txt, _ := s.MarshalText()
	outs = append(outs, string(txt))
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("config", "secret", s, "cfg", cfg, "ptr", &cfg, slog.Group("g", "s", s))
	}
	outs = append(outs, logs.String())
	for _, o := range outs {
		if strings.Contains(o, testSecret) {
			t.Errorf("secret leaked in %q", o)
		}
	}
	if got := fmt.Sprintf("%v|%s|%q", s, s, s); got != `[REDACTED]|[REDACTED]|"[REDACTED]"` {
		t.Errorf("got %s", got)
	}
	if s.Reveal() != testSecret {
		t.Error("Reveal lost the value")
	}
}

// TestSecretNeverInLogsOrErrors: the token goes to the server in the
// Authorization header and nowhere else: not in a debug log line, not in an
// error, also when requests fail in every way.
func TestSecretNeverInLogsOrErrors(t *testing.T) {
	var errs []error
	logs := &syncBuffer{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != testAuth {
			t.Errorf("Authorization header %q", r.Header.Get("Authorization"))
		}
		switch r.URL.Path {
		case "/api2/json/version":
			writeRaw(t, w, 401, "Authentication failed!", nil)
		case "/api2/json/nodes":
			resetConn(t, w)
		case "/api2/json/nodes/pve/lxc/100/config":
			writeRaw(t, w, 400, "Parameter verification failed.", []byte(`{"data":null,"errors":{"memory":"value must be at least 16"},"message":"Parameter verification failed.\n"}`))
		case "/api2/json/cluster/resources":
			<-r.Context().Done()
		default:
			writeData(t, w, []any{})
		}
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, Timeout: 50 * time.Millisecond, Retries: 1},
		WithHTTPClient(srv.Client()), WithLogger(testLogger(logs)), WithRetryBackoff(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Version(ctx)
	errs = append(errs, err)
	_, err = c.Nodes(ctx)
	errs = append(errs, err)
	_, err = c.SetConfig(ctx, "pve", 100, ConfigChange{Set: map[string]string{"memory": "1"}})
	errs = append(errs, err)
	_, err = c.ClusterResources(ctx, "vm")
	errs = append(errs, err)
	if _, err := c.Storages(ctx, "pve"); err != nil {
		t.Fatal(err)
	}

	// A pinned client facing the wrong certificate, and an unreachable server.
	pinned, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, Fingerprint: strings.Repeat("00", 32), Retries: -1},
		WithLogger(testLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pinned.Version(ctx)
	errs = append(errs, err)
	gone, err := New(Config{URL: "https://127.0.0.1:1", TokenID: testTokenID, TokenSecret: testSecret, Retries: 1},
		WithLogger(testLogger(logs)), WithRetryBackoff(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = gone.Version(ctx)
	errs = append(errs, err)

	// Config errors with the secret set.
	_, err = New(Config{URL: "ftp://x", TokenID: "bad", TokenSecret: testSecret})
	errs = append(errs, err)
	dir := t.TempDir()
	bad := filepath.Join(dir, "pve.yaml")
	os.WriteFile(bad, []byte("url: https://pve:8006\ntoken_id: a@pve!b\ntoken_secret: "+testSecret+"\nbogus: 1\n"), 0o600)
	_, err = LoadConfig(bad, nil)
	errs = append(errs, err)

	// A token id pasted in PVE's user@realm!tok=SECRET form, from the
	// environment and from a file, and URLs that carry the secret as a
	// password, well-formed or not.
	env := func(k string) string {
		return map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "felhom@pve!reconcile=" + testSecret, EnvTokenSecret: testSecret}[k]
	}
	_, err = LoadConfig("", env)
	if err == nil || !strings.Contains(err.Error(), "token_id must not include the secret (the part after '=' goes in token_secret)") {
		t.Errorf("token id with the secret: %v", err)
	}
	errs = append(errs, err)
	// The secret in an override that wants another kind of value.
	for _, name := range []string{EnvTimeout, EnvInsecure, EnvRetries, EnvMaxConcurrency} {
		_, err = LoadConfig("", func(k string) string {
			if k == name {
				return testSecret
			}
			return env(k)
		})
		errs = append(errs, err)
	}
	for _, c := range []Config{
		{URL: "https://pve:8006", TokenID: "PVEAPIToken=felhom@pve!ops=" + testSecret, TokenSecret: testSecret},
		{URL: "https://pve:8006", TokenID: "felhom@pve!ops=" + testSecret + " extra", TokenSecret: testSecret},
		{URL: "https://felhom@pve!ops:" + testSecret + "@pve:8006", TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "https://felhom:" + testSecret + "@pve:80 06", TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "https://felhom:" + testSecret + "%zz@pve:8006", TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "felhom:" + testSecret + "@pve:8006", TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "ftp://felhom:" + testSecret + "@pve:8006", TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "http://pve:8006/?token=" + testSecret, TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "https://pve:8006/?token=" + testSecret, TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "https://pve:8006#" + testSecret, TokenID: testTokenID, TokenSecret: testSecret},
		{URL: "https://pve:8006", TokenID: testTokenID, TokenSecret: testSecret, Timeout: -1},
	} {
		_, err = New(c)
		errs = append(errs, err)
	}
	os.WriteFile(bad, []byte("url: https://pve:8006\ntoken_id: felhom@pve!ops="+testSecret+"\ntoken_secret: "+testSecret+"\n"), 0o600)
	_, err = LoadConfig(bad, nil)
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testSecret) {
			t.Errorf("case %d: secret in error %v", i, err)
		}
	}
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatal("the test logged nothing at debug level; it proves nothing")
	}
	if strings.Contains(logs.String(), testSecret) {
		t.Errorf("secret in log:\n%s", logs)
	}
}
