package source

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	git "github.com/go-git/go-git/v5"
)

const hookSecret = "wh-s3cr3t-9f2c"

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhook(t *testing.T) {
	var logs syncBuffer
	var triggers atomic.Int64
	srv := httptest.NewServer(NewWebhook(Secret(hookSecret), func() { triggers.Add(1) }, slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()
	body := `{"ref":"refs/heads/main"}`
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		body    string
		code    int
	}{
		{"github", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(hookSecret, body), "X-GitHub-Event": "push"}, body, 202},
		{"github wrong secret", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex("guess", body)}, body, 403},
		{"github other body", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(hookSecret, body)}, body + " ", 403},
		{"github without prefix", "POST", map[string]string{"X-Hub-Signature-256": hmacHex(hookSecret, body)}, body, 403},
		{"github not hex", "POST", map[string]string{"X-Hub-Signature-256": "sha256=zz"}, body, 403},
		{"gitea", "POST", map[string]string{"X-Gitea-Signature": hmacHex(hookSecret, body), "X-Gitea-Event": "push"}, body, 202},
		{"gitea wrong", "POST", map[string]string{"X-Gitea-Signature": hmacHex(hookSecret, "other")}, body, 403},
		{"forgejo", "POST", map[string]string{"X-Forgejo-Signature": hmacHex(hookSecret, body)}, body, 202},
		{"gitlab", "POST", map[string]string{"X-Gitlab-Token": hookSecret, "X-Gitlab-Event": "Push Hook"}, body, 202},
		{"gitlab wrong", "POST", map[string]string{"X-Gitlab-Token": hookSecret + "x"}, body, 403},
		{"gitlab prefix of the secret", "POST", map[string]string{"X-Gitlab-Token": hookSecret[:4]}, body, 403},
		{"unsigned", "POST", nil, body, 401},
		{"the old sha1 header alone", "POST", map[string]string{"X-Hub-Signature": "sha1=00"}, body, 401},
		{"GET", "GET", map[string]string{"X-Gitlab-Token": hookSecret}, "", 405},
		{"too big", "POST", map[string]string{"X-Gitlab-Token": hookSecret}, strings.Repeat("x", MaxWebhookBody+1), 413},
	} {
		before := triggers.Load()
		req, err := http.NewRequest(tc.method, srv.URL+"/hook", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, msg, tc.code)
		}
		want := int64(0)
		if tc.code == 202 {
			want = 1
		}
		if got := triggers.Load() - before; got != want {
			t.Errorf("%s: %d triggers, want %d", tc.name, got, want)
		}
		if bytes.Contains(msg, []byte(hookSecret)) {
			t.Errorf("%s: the answer shows the secret", tc.name)
		}
	}
	out := logs.String()
	if strings.Contains(out, hookSecret) || strings.Contains(out, hookSecret[:4]+"\"") || strings.Contains(out, hmacHex(hookSecret, body)) {
		t.Fatalf("the log shows the secret or a header value:\n%s", out)
	}
	for _, want := range []string{`msg="webhook: refused"`, `provider=github status=403 reason="the signature does not match the body and the secret"`, `provider=gitlab event="Push Hook"`, `status=401`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestWebhookEmptySecretRefusesAll(t *testing.T) {
	var triggers atomic.Int64
	h := NewWebhook("", func() { triggers.Add(1) }, nil)
	for _, hdr := range []map[string]string{
		{"X-Gitlab-Token": ""},
		{"X-Gitlab-Token": "x"},
		{"X-Hub-Signature-256": "sha256=" + hmacHex("", "{}")},
		{"X-Gitea-Signature": hmacHex("", "{}")},
	} {
		req := httptest.NewRequest("POST", "/hook", strings.NewReader("{}"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 401 && rec.Code != 403 {
			t.Errorf("%v: %d", hdr, rec.Code)
		}
	}
	if triggers.Load() != 0 {
		t.Fatal("an empty secret let a request through")
	}
}

func TestReadSecretFile(t *testing.T) {
	s, err := ReadSecretFile(secretFile(t, "  "+hookSecret+"  "))
	if err != nil || s.Reveal() != hookSecret {
		t.Fatalf("%v, %v", s, err)
	}
	if _, err := ReadSecretFile(secretFile(t, " \n")); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty: %v", err)
	}
}

// TestWebhookTriggersGitFetch: a verified webhook wakes a git source, which
// fetches and signals the new commit.
func TestWebhookTriggersGitFetch(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	g := newGitSource(t, GitConfig{URL: u.gitDaemon(), Interval: 1 << 40})
	fetch(t, g)
	runSource(t, g)
	srv := httptest.NewServer(NewWebhook(Secret(hookSecret), g.Trigger, nil))
	defer srv.Close()
	c2 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 1024))}, git.CommitOptions{})
	u.push()
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
	req.Header.Set("X-Gitlab-Token", hookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("%v, %v", resp, err)
	}
	resp.Body.Close()
	waitChanged(t, g.Changed())
	if rev := fetch(t, g); rev.ID != c2.String() {
		t.Fatalf("%s, want %s", rev.ID, c2)
	}
}
