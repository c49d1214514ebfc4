package pve

import (
	"errors"
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
		wantErr: `u.yaml:4: unknown key "node" (known: url, token_id,`,
	}, {
		name:    "nothing",
		wantErr: "config: url is required",
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
		name:    "query in url",
		env:     map[string]string{EnvURL: "https://pve:8006/?x=1", EnvTokenID: "a@pve!b", EnvTokenSecret: "s"},
		wantErr: `url "https://pve:8006/?[REDACTED]": must not have a query or fragment`,
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
		wantErr: "config: token_secret_file /nonexistent/secret: no such file",
	}, {
		name:    "bad duration",
		env:     map[string]string{EnvTimeout: "soon"},
		wantErr: `config: FELHOM_PVE_TIMEOUT: want a duration such as 60s`,
	}, {
		name:    "bad bool",
		env:     map[string]string{EnvInsecure: "maybe"},
		wantErr: `config: FELHOM_PVE_INSECURE: want true or false`,
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
	if c.base != "https://pve:8006/api2/json" || c.timeout != DefaultTimeout || c.retries != DefaultRetries || cap(c.sem) != DefaultMaxConcurrency {
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
	if c.base != "https://pve:8006/api2/json" || c.retries != 0 {
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

// TestConfigFileErrors: a mistake in the config file is reported as
// config FILE:LINE: with the key, in words a user reads (no Go type names),
// and without the value, which may be the secret in the wrong place.
func TestConfigFileErrors(t *testing.T) {
	const known = "(known: url, token_id, token_secret, token_secret_file, fingerprint, ca_file, insecure, timeout, max_concurrency, node_concurrency, retries, privileged)"
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "url: https://pve:8006\ntoken_id: a@pve!b\nbogus: 1\n", `:3: unknown key "bogus" ` + known},
		{"unknown key in camel case", "tokenId: a@pve!b\n", `:1: unknown key "tokenId" (did you mean "token_id"?) ` + known},
		{"typo", "url: https://pve:8006\ntoken_secert_file: /etc/s\n", `:2: unknown key "token_secert_file" (did you mean "token_secret_file"?) ` + known},
		{"dashes", "max-concurrency: 2\n", `:1: unknown key "max-concurrency" (did you mean "max_concurrency"?) ` + known},
		{"duration", "url: https://pve:8006\ntimeout: soon\n", ":2: timeout: want a duration such as 60s"},
		{"boolean", "insecure: maybe\n", ":1: insecure: want true or false"},
		{"integer", "\nmax_concurrency: lots\n", ":2: max_concurrency: want an integer"},
		{"string", "url:\n  - https://pve:8006\n", ":2: url: want a string"},
		{"key given twice", "url: https://a:8006\ntoken_id: a@pve!b\nurl: https://b:8006\n", `:3: key "url" given twice (first on line 1)`},
		{"not a mapping", "- url: https://pve:8006\n", ":1: want keys such as url: https://pve:8006"},
		{"syntax", "url: https://pve:8006\ntoken_id: a: b\n", ":2: mapping values are not allowed in this context"},
		{"secret in the wrong key", "retries: " + testSecret + "\n", ":1: retries: want an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "pve.yaml", tt.yaml)
			_, err := LoadConfig(path, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "config " + path + tt.want; err.Error() != want {
				t.Errorf("got  %s\nwant %s", err, want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != path || ce.Line == 0 {
				t.Errorf("%#v is not a *ConfigError with file and line", err)
			}
			for _, bad := range []string{"pve.Config", "not found in type", "!!", "unmarshal", testSecret} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("error contains %q: %v", bad, err)
				}
			}
		})
	}
	// Without a file (ParseConfig), the line alone.
	_, err := ParseConfig([]byte("url: https://pve:8006\nbogus: 1\n"))
	if err == nil || err.Error() != `config line 2: unknown key "bogus" `+known {
		t.Errorf("ParseConfig: %v", err)
	}
	// A good file still decodes every key.
	c, err := ParseConfig([]byte("url: https://pve:8006\ntoken_id: a@pve!b\ntoken_secret: s\ninsecure: true\ntimeout: 90s\nmax_concurrency: 2\nretries: -1\n"))
	want := Config{URL: "https://pve:8006", TokenID: "a@pve!b", TokenSecret: "s", Insecure: true, Timeout: 90 * time.Second, MaxConcurrency: 2, Retries: -1}
	if err != nil || c != want {
		t.Errorf("ParseConfig: %+v, %v", c, err)
	}
	// The privileged section is the privileged package's to read.
	c, err = ParseConfig([]byte("url: https://pve:8006\nprivileged:\n  enabled: true\n  whatever: 1\n"))
	if err != nil || c.URL != "https://pve:8006" {
		t.Errorf("ParseConfig with a privileged section: %+v, %v", c, err)
	}
}

// FuzzParseConfig: no document makes ParseConfig panic; every error is a
// *ConfigError in the user's words (no Go type names, no yaml.v3 tags).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"url: https://pve:8006\ntoken_id: a@pve!b\ntoken_secret: s\ntimeout: 30s\nretries: -1\ninsecure: false\n",
		"bogus: 1\n", "url: [a]\n", "- a\n", "url: a\nurl: b\n", "timeout: &x 1s\nretries: *x\n", "{", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseConfig(b)
		if err == nil {
			return
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%T %v is not a *ConfigError", err, err)
		}
		for _, bad := range []string{"pve.Config", "!!", "unmarshal", "time.Duration"} {
			if strings.Contains(err.Error(), bad) && !strings.Contains(string(b), bad) { // an unknown key is quoted as written
				t.Fatalf("error %q contains %q", err, bad)
			}
		}
	})
}

// TestConfigErrorsHideSecretLikeValues: a value in the wrong place may be
// the token secret (a UUID on PVE), so no error shows a value that holds the
// configured secret or a UUID, whatever key it was given for.
func TestConfigErrorsHideSecretLikeValues(t *testing.T) {
	const plainSecret = "not-a-uuid-but-secret"
	base := func(kv ...string) map[string]string {
		m := map[string]string{EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecret: testSecret}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name, hidden, want string
		env                map[string]string
	}{
		{"url is the secret", testSecret, "url", base(EnvURL, testSecret)},
		{"url host is the secret", testSecret, "url", base(EnvURL, "https://"+testSecret+":8006")},
		{"url is a secret not shaped as a UUID", plainSecret, "url", base(EnvURL, plainSecret, EnvTokenSecret, plainSecret)},
		{"token id is the secret", testSecret, "token_id", base(EnvTokenID, testSecret)},
		{"token id is a secret not shaped as a UUID", plainSecret, "token_id", base(EnvTokenID, plainSecret, EnvTokenSecret, plainSecret)},
		{"fingerprint is the secret", testSecret, "fingerprint", base(EnvFingerprint, testSecret)},
		{"secret file named by the secret", testSecret, "token_secret_file", map[string]string{
			EnvURL: "https://pve:8006", EnvTokenID: "a@pve!b", EnvTokenSecretFile: testSecret}},
		{"url is another token's secret", "0e2f3c4d-aaaa-4bbb-8ccc-123456789abc", "url",
			base(EnvURL, "0e2f3c4d-aaaa-4bbb-8ccc-123456789abc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig("", func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), tt.hidden) {
				t.Errorf("error shows the secret: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
	// New validates too, and builds the TLS settings: a CA file named by the
	// secret is not shown either.
	_, err := New(Config{URL: "https://pve:8006", TokenID: "a@pve!b", TokenSecret: testSecret, CAFile: "/run/" + testSecret})
	if err == nil || strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("ca_file: %v", err)
	}
}
