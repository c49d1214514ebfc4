package pve

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	secretFile := writeFile(t, "secret", "  "+testSecret+"\n")
	good := writeFile(t, "pve.yaml", `
url: https://pve1.example.net:8006
token_id: felhom@pve!ci
token_secret_file: `+secretFile+`
fingerprint: "`+strings.Repeat("AB:", 31)+`AB"
timeout: 30s
max_concurrency: 6
retries: 2
`)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		path    string
		env     map[string]string
		want    Config
		wantErr string
	}{{
		name: "file",
		path: good,
		want: Config{URL: "https://pve1.example.net:8006", TokenID: "felhom@pve!ci", TokenSecret: testSecret, TokenSecretFile: secretFile,
			Fingerprint: strings.Repeat("AB:", 31) + "AB", Timeout: 30 * time.Second, MaxConcurrency: 6, Retries: 2},
	}, {
		name: "env overrides file",
		path: good,
		env: map[string]string{EnvURL: "https://pve2:8006", EnvTokenSecret: "other", EnvFingerprint: "", EnvTimeout: "5s",
			EnvMaxConcurrency: "2", EnvRetries: "-1", EnvTokenID: "x@pam!y"},
		want: Config{URL: "https://pve2:8006", TokenID: "x@pam!y", TokenSecret: "other",
			Fingerprint: strings.Repeat("AB:", 31) + "AB", Timeout: 5 * time.Second, MaxConcurrency: 2, Retries: -1},
	}, {
		name: "env only",
		env:  map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecretFile: secretFile, EnvCAFile: "/etc/pve/pve-root-ca.pem"},
		want: Config{URL: "https://pve:8006", TokenID: "a@pve!b", TokenSecret: testSecret, TokenSecretFile: secretFile, CAFile: "/etc/pve/pve-root-ca.pem"},
	}, {
		name: "insecure from env",
		env:  map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: "s", EnvInsecure: "true"},
		want: Config{URL: "https://pve:8006", TokenID: "a@pve!b", TokenSecret: "s", Insecure: true},
	}, {
		name:    "unknown key",
		path:    writeFile(t, "u.yaml", "url: https://pve:8006\ntoken_id: a@pve!b\ntoken_secret: s\nnode: pve\n"),
		wantErr: "field node not found",
	}, {
		name:    "nothing",
		wantErr: "url is required",
	}, {
		name:    "bad token id",
		env:     map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "root@pam", EnvTokenSecret: "s"},
		wantErr: "want user@realm!tokenname",
	}, {
		name:    "token id with its secret",
		env:     map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b=s", EnvTokenSecret: "s"},
		wantErr: "token_id must not include the secret (the part after '=' goes in token_secret)",
	}, {
		name:    "url that does not parse",
		env:     map[string]string{EnvURL: "https://pve:80 06", EnvTokenID: "a@pve!b", EnvTokenSecret: "s"},
		wantErr: `url "https://pve:80 06": not a valid URL: invalid port`,
	}, {
		name:    "url with credentials that does not parse",
		env:     map[string]string{EnvURL: "https://root:pw@pve:80 06", EnvTokenID: "a@pve!b", EnvTokenSecret: "s"},
		wantErr: `url "https://[REDACTED]@pve:80 06": not a valid URL`,
	}, {
		name:    "http without insecure",
		env:     map[string]string{EnvURL: "http://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: "s"},
		wantErr: "plain http needs insecure",
	}, {
		name:    "credentials in url",
		env:     map[string]string{EnvURL: "https://root:pw@pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: "s"},
		wantErr: "must not carry credentials",
	}, {
		name:    "pin and CA",
		env:     map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: "s", EnvCAFile: "/x", EnvFingerprint: strings.Repeat("ab", 32)},
		wantErr: "exclude each other",
	}, {
		name:    "short fingerprint",
		env:     map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: "s", EnvFingerprint: "AB:CD"},
		wantErr: "32-byte SHA-256",
	}, {
		name:    "missing secret file",
		env:     map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecretFile: "/nonexistent/secret"},
		wantErr: "token secret file",
	}, {
		name:    "bad duration",
		env:     map[string]string{EnvTimeout: "soon"},
		wantErr: EnvTimeout,
	}, {
		name:    "bad bool",
		env:     map[string]string{EnvInsecure: "maybe"},
		wantErr: EnvInsecure,
	}, {
		name:    "missing file",
		path:    "/nonexistent/pve.yaml",
		wantErr: "no such file",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(tt.path, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.TokenSecret.Reveal() != tt.want.TokenSecret.Reveal() {
				t.Error("secret differs")
			}
		})
	}
}

func TestParseConfigEmpty(t *testing.T) {
	c, err := ParseConfig(nil)
	if err != nil || c != (Config{}) {
		t.Errorf("%+v, %v", c, err)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{URL: "https://pve:8006/", TokenID: "a@pve!b", TokenSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != "https://pve:8006/api2/json" || c.timeout != DefaultTimeout || c.retries != DefaultRetries || cap(c.sem) != DefaultMaxConcurrency {
		t.Errorf("base %s timeout %v retries %d sem %d", c.base, c.timeout, c.retries, cap(c.sem))
	}
	tr := c.http.Transport.(*http.Transport)
	if tr.IdleConnTimeout != idleConnTimeout || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("transport %+v", tr)
	}
	c, err = New(Config{URL: "https://pve:8006/api2/json", TokenID: "a@pve!b", TokenSecret: "s", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != "https://pve:8006/api2/json" || c.retries != 0 {
		t.Errorf("base %s retries %d", c.base, c.retries)
	}
}

func TestDisplayURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://pve:8006", "https://pve:8006"},
		{"https://root:pw@pve:8006", "https://[REDACTED]@pve:8006"},
		{"https://a@b:pw@pve:80 06", "https://[REDACTED]@pve:80 06"},
		{"root:pw@pve:8006", "[REDACTED]@pve:8006"},
		{"https://pve:8006/?token=x", "https://pve:8006/?[REDACTED]"},
		{"https://pve:8006#x@y", "https://pve:8006#[REDACTED]"},
	} {
		if got := displayURL(tt.in); got != tt.want {
			t.Errorf("displayURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
