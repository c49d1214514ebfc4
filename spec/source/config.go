package source

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied where a Config field is zero.
const (
	// DefaultQuiet is how long a directory must stay quiet after a change
	// before it is read: an editor's save, a git pull or a checkout is a
	// burst of events that becomes one reload.
	DefaultQuiet = 500 * time.Millisecond
	// DefaultDirResync is how often a directory is read again without an
	// event, as a safety net for changes no event reports (a linked file's
	// target outside the folder, a watch the kernel dropped).
	DefaultDirResync = 5 * time.Minute
	// DefaultInterval is how often a git source fetches without a webhook.
	DefaultInterval = time.Minute
	// DefaultTimeout bounds one git fetch.
	DefaultTimeout = 2 * time.Minute
	// DefaultBranch is the branch a git source follows when it names no
	// branch, tag or commit.
	DefaultBranch = "main"
)

// Config names a source: exactly one of Dir and Git. In YAML it is a
// mapping with the key dir or git; unknown keys are errors.
type Config struct {
	Dir *DirConfig `yaml:"dir,omitempty"`
	Git *GitConfig `yaml:"git,omitempty"`
}

// DirConfig is a directory source.
type DirConfig struct {
	// Path is the spec folder. It may be a symbolic link (swapped as a
	// whole to publish a new tree); links to files inside it are followed,
	// as spec.Load follows them, and folders whose name starts with "." are
	// not read (a Kubernetes ConfigMap's ..data).
	Path string `yaml:"path"`
	// Quiet is how long no event must arrive before the folder is read;
	// zero means DefaultQuiet.
	Quiet time.Duration `yaml:"quiet,omitempty"`
	// Resync is how often the folder is read without an event; zero means
	// DefaultDirResync, negative never.
	Resync time.Duration `yaml:"resync,omitempty"`
}

// GitConfig is a git source.
type GitConfig struct {
	// URL is the repository: https://, http://, git://, ssh:// or
	// scp-like user@host:path. It must not hold a password; credentials
	// come from files.
	URL string `yaml:"url"`
	// Branch, Tag and Commit choose what to follow: a branch (followed
	// when force-pushed), a tag, or a pinned commit (40 hex digits; fetched
	// from Branch, or every branch when Branch is empty). Tag excludes the
	// other two. None set means Branch DefaultBranch.
	Branch string `yaml:"branch,omitempty"`
	Tag    string `yaml:"tag,omitempty"`
	Commit string `yaml:"commit,omitempty"`
	// Path is the spec folder inside the repository; empty is its root.
	Path string `yaml:"path,omitempty"`
	// Interval is how often to fetch (a webhook fetches sooner); zero means
	// DefaultInterval.
	Interval time.Duration `yaml:"interval,omitempty"`
	// Timeout bounds each fetch; zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty"`

	// Username with PasswordFile, or TokenFile (Username defaults to
	// "git" then, which GitHub, Gitea and GitLab accept with a token),
	// authenticate over HTTPS. The files' surrounding white space is
	// trimmed.
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	TokenFile    string `yaml:"token_file,omitempty"`
	// SSHKeyFile is the private key for ssh:// URLs (passphrase in
	// SSHKeyPassphraseFile when it has one); KnownHostsFile the host keys
	// to trust. InsecureIgnoreHostKey accepts any host key instead, with a
	// warning at every start: only for throw-away setups.
	SSHKeyFile            string `yaml:"ssh_key_file,omitempty"`
	SSHKeyPassphraseFile  string `yaml:"ssh_key_passphrase_file,omitempty"`
	KnownHostsFile        string `yaml:"known_hosts_file,omitempty"`
	InsecureIgnoreHostKey bool   `yaml:"insecure_ignore_host_key,omitempty"`

	// Verify, when set, refuses a head commit that is not signed by one of
	// its keys.
	Verify *VerifyConfig `yaml:"verify,omitempty"`
}

// VerifyConfig lists the keys a head commit's signature must come from; at
// least one file is set, and a signature by a key in either passes.
type VerifyConfig struct {
	// OpenPGPKeyringFile is an armored OpenPGP key ring (gpg --export --armor).
	OpenPGPKeyringFile string `yaml:"openpgp_keyring_file,omitempty"`
	// SSHKeysFile holds SSH public keys one a line, in authorized_keys form
	// ("ssh-ed25519 AAAA... comment"); an allowed_signers line (a principal
	// first) is read too, its principal ignored.
	SSHKeysFile string `yaml:"ssh_keys_file,omitempty"`
}

// ParseConfig parses a YAML source configuration (the mapping with dir or
// git). Unknown keys, keys given twice and values of the wrong kind are
// *ConfigError with the line. It reads no file and does not validate.
func ParseConfig(data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, &ConfigError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var c Config
	if len(doc.Content) == 0 {
		return c, nil
	}
	err := c.UnmarshalYAML(doc.Content[0])
	return c, err
}

// UnmarshalYAML decodes a source mapping strictly (yaml.v3), so a Config
// inside a larger YAML document refuses unknown keys too.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	var out Config
	if err := decodeStrict(n, reflect.ValueOf(&out).Elem(), ""); err != nil {
		return err
	}
	*c = out
	return nil
}

// ConfigError is a mistake in a source configuration: the key path (such
// as git.verify), the line when known, and what is wrong. It never shows a
// value.
type ConfigError struct {
	Key  string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	where := "source"
	if e.Key != "" {
		where += " " + e.Key
	}
	if e.Line > 0 {
		where += fmt.Sprintf(" (line %d)", e.Line)
	}
	return where + ": " + e.Msg
}

// decodeStrict decodes n into the struct v, refusing keys its yaml tags do
// not name and keys given twice; at names v's key path.
func decodeStrict(n *yaml.Node, v reflect.Value, at string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &ConfigError{Key: at, Line: n.Line, Msg: "want a mapping of keys"}
	}
	fields := map[string]reflect.Value{}
	var keys []string
	for i := range v.NumField() {
		key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		fields[key] = v.Field(i)
		keys = append(keys, key)
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := k.Value
		if at != "" {
			path = at + "." + k.Value
		}
		f, ok := fields[k.Value]
		if !ok {
			return &ConfigError{Key: at, Line: k.Line, Msg: fmt.Sprintf("unknown key %q (known: %s)", k.Value, strings.Join(keys, ", "))}
		}
		if line, ok := first[k.Value]; ok {
			return &ConfigError{Key: path, Line: k.Line, Msg: fmt.Sprintf("given twice (first on line %d)", line)}
		}
		first[k.Value] = k.Line
		if f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct {
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				continue
			}
			p := reflect.New(f.Type().Elem())
			if err := decodeStrict(val, p.Elem(), path); err != nil {
				return err
			}
			f.Set(p)
			continue
		}
		if err := val.Decode(f.Addr().Interface()); err != nil {
			// Not err: yaml.v3's message quotes the value, which may be a
			// secret in the wrong place.
			return &ConfigError{Key: path, Line: val.Line, Msg: "want " + want(f.Type())}
		}
	}
	return nil
}

func want(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 30s"
	case t.Kind() == reflect.Bool:
		return "true or false"
	}
	return "a string"
}

// hexCommit is a full SHA-1 commit id.
var hexCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Validate checks c without reading any file: one source, the fields it
// needs, and no combination that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Dir == nil && c.Git == nil:
		return errNoSource
	case c.Dir != nil && c.Git != nil:
		return errors.New("source: dir: and git: both given; name one")
	case c.Dir != nil:
		if c.Dir.Path == "" {
			return &ConfigError{Key: "dir.path", Msg: "required: the spec folder"}
		}
		if c.Dir.Quiet < 0 {
			return &ConfigError{Key: "dir.quiet", Msg: "must not be negative"}
		}
		return nil
	}
	return c.Git.validate()
}

func (g *GitConfig) validate() error {
	if g.URL == "" {
		return &ConfigError{Key: "git.url", Msg: "required: the repository"}
	}
	if err := checkURL(g.URL); err != nil {
		return &ConfigError{Key: "git.url", Msg: err.Error()}
	}
	if g.Tag != "" && (g.Branch != "" || g.Commit != "") {
		return &ConfigError{Key: "git.tag", Msg: "a tag excludes branch and commit"}
	}
	if g.Commit != "" && !hexCommit.MatchString(g.Commit) {
		return &ConfigError{Key: "git.commit", Msg: "want the full commit id, 40 lower-case hex digits"}
	}
	if g.Interval < 0 || g.Timeout < 0 {
		return &ConfigError{Key: "git.interval", Msg: "interval and timeout must not be negative"}
	}
	if g.PasswordFile != "" && g.TokenFile != "" {
		return &ConfigError{Key: "git.token_file", Msg: "give a password_file or a token_file, not both"}
	}
	if g.PasswordFile != "" && g.Username == "" {
		return &ConfigError{Key: "git.password_file", Msg: "needs a username"}
	}
	if g.SSHKeyPassphraseFile != "" && g.SSHKeyFile == "" {
		return &ConfigError{Key: "git.ssh_key_passphrase_file", Msg: "needs an ssh_key_file"}
	}
	if g.KnownHostsFile != "" && g.InsecureIgnoreHostKey {
		return &ConfigError{Key: "git.insecure_ignore_host_key", Msg: "excludes known_hosts_file"}
	}
	if g.Verify != nil && g.Verify.OpenPGPKeyringFile == "" && g.Verify.SSHKeysFile == "" {
		return &ConfigError{Key: "git.verify", Msg: "name an openpgp_keyring_file or an ssh_keys_file (or both)"}
	}
	if strings.HasPrefix(g.Path, "/") || strings.Contains("/"+g.Path+"/", "/../") {
		return &ConfigError{Key: "git.path", Msg: "want a folder inside the repository, relative, without .."}
	}
	return nil
}
