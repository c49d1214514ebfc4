package source

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
git:
  url: https://git.example.net/ops/felhom.git
  branch: prod
  path: clusters/home
  interval: 30s
  username: bot
  password_file: /etc/felhom/git-password
  verify:
    openpgp_keyring_file: /etc/felhom/keys.asc
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Git == nil || c.Git.Branch != "prod" || c.Git.Interval != 30*time.Second || c.Git.Verify == nil || c.Git.Verify.OpenPGPKeyringFile != "/etc/felhom/keys.asc" || c.Dir != nil {
		t.Fatalf("parsed %+v", c.Git)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Inside a larger document (the daemon's configuration) it is as strict.
	var outer struct {
		Source Config `yaml:"source"`
	}
	err = yaml.Unmarshal([]byte("source:\n  dir:\n    path: /srv/specs\n    quite: 1s\n"), &outer)
	if err == nil || !strings.Contains(err.Error(), `source dir (line 4): unknown key "quite" (known: path, quiet, resync)`) {
		t.Fatalf("nested unknown key: %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gti:\n  url: x\n", `source (line 1): unknown key "gti" (known: dir, git)`},
		{"git:\n  url: a\n  url: b\n", `source git.url (line 3): given twice (first on line 2)`},
		{"git:\n  url: a\n  interval: soon\n", `source git.interval (line 3): want a duration such as 30s`},
		{"git:\n  url: a\n  insecure_ignore_host_key: s3cr3t\n", `source git.insecure_ignore_host_key (line 3): want true or false`},
		{"git:\n  url: [1]\n", `source git.url (line 2): want a string`},
		{"dir: 3\n", `source dir (line 1): want a mapping of keys`},
		{"git: [\n", `source: line 1: did not find expected node content`},
	} {
		_, err := ParseConfig([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: the error shows the value: %v", tc.in, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	git := func(f func(g *GitConfig)) Config {
		g := &GitConfig{URL: "https://git.example.net/r.git"}
		f(g)
		return Config{Git: g}
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string // "" is valid
	}{
		{"none", Config{}, "source: name one of dir: or git:"},
		{"both", Config{Dir: &DirConfig{Path: "x"}, Git: &GitConfig{URL: "git://h/r"}}, "both given"},
		{"dir", Config{Dir: &DirConfig{Path: "/srv/specs"}}, ""},
		{"dir without path", Config{Dir: &DirConfig{}}, "source dir.path: required"},
		{"git", git(func(*GitConfig) {}), ""},
		{"scp-like", git(func(g *GitConfig) { g.URL = "git@github.com:ops/specs.git" }), ""},
		{"password in url", git(func(g *GitConfig) { g.URL = "https://bot:s3cr3t@h/r.git" }), "holds a password"},
		{"scheme", git(func(g *GitConfig) { g.URL = "file:///srv/r.git" }), "scheme file not supported"},
		{"tag and branch", git(func(g *GitConfig) { g.Tag, g.Branch = "v1", "main" }), "a tag excludes"},
		{"short commit", git(func(g *GitConfig) { g.Commit = "abc123" }), "full commit id"},
		{"commit on a branch", git(func(g *GitConfig) { g.Commit, g.Branch = strings.Repeat("a", 40), "main" }), ""},
		{"token and password", git(func(g *GitConfig) { g.TokenFile, g.PasswordFile, g.Username = "t", "p", "u" }), "not both"},
		{"password without user", git(func(g *GitConfig) { g.PasswordFile = "p" }), "needs a username"},
		{"insecure and known_hosts", git(func(g *GitConfig) { g.KnownHostsFile, g.InsecureIgnoreHostKey = "k", true }), "excludes known_hosts_file"},
		{"empty verify", git(func(g *GitConfig) { g.Verify = &VerifyConfig{} }), "name an openpgp_keyring_file"},
		{"path out", git(func(g *GitConfig) { g.Path = "../etc" }), "without .."},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("%s: the error shows the password: %v", tc.name, err)
		}
	}
}
