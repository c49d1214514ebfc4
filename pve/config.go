package pve

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/felhom/felhom/internal/typo"
)

// Defaults applied by New when a Config field is zero.
const (
	// DefaultTimeout bounds one HTTP request (one attempt). PVE holds a
	// container's config lock for up to 10 s before "got timeout", and a
	// proxied request to another node may take 30 s, so the bound is above both.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxConcurrency is the in-flight request limit. pveproxy and
	// pvedaemon run 3 worker processes each by default, and a synchronous
	// handler (PUT config, GET pending) occupies one worker; more than a few
	// requests in flight only queue on the server.
	DefaultMaxConcurrency = 4
	// DefaultNodeConcurrency is the in-flight limit per node: pveproxy's 3
	// workers (pve-manager PVE/Service/pveproxy.pm, max_workers 3), so
	// more requests against one node only queue there while other nodes
	// may still serve theirs.
	DefaultNodeConcurrency = 3
	// DefaultRetries is how many times an idempotent GET is retried after a
	// transient failure.
	DefaultRetries = 3
)

// Config says how to reach and authenticate to a PVE API. It is read from a
// YAML file (keys as in the yaml tags; unknown keys are errors) and
// environment variables that override the file (see LoadConfig).
type Config struct {
	// URL is the API base, e.g. https://pve1.example.net:8006. The client
	// adds /api2/json. Required; https unless Insecure is set.
	URL string `yaml:"url" json:"url"`
	// TokenID is the full token id, user@realm!tokenname. Required.
	TokenID string `yaml:"token_id" json:"token_id"`
	// TokenSecret is the token's secret (a UUID). Exactly one of TokenSecret
	// and TokenSecretFile is set.
	TokenSecret Secret `yaml:"token_secret,omitempty" json:"token_secret,omitempty"`
	// TokenSecretFile names a file holding the secret; surrounding white
	// space is trimmed. LoadConfig reads it into TokenSecret.
	TokenSecretFile string `yaml:"token_secret_file,omitempty" json:"token_secret_file,omitempty"`
	// Fingerprint pins the server's leaf certificate by its SHA-256, in PVE's
	// AA:BB:... form (as `pvenode cert info` prints it) or as plain hex.
	// Mutually exclusive with CAFile and Insecure.
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
	// CAFile is a PEM file of CA certificates to verify the server against
	// (e.g. the cluster's /etc/pve/pve-root-ca.pem) instead of the system roots.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// Insecure turns off certificate verification. Only for throw-away test
	// setups; New logs a warning when it is set (to stderr unless the caller
	// passes WithLogger).
	Insecure bool `yaml:"insecure,omitempty" json:"insecure,omitempty"`
	// Timeout bounds each HTTP request (each attempt). Zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// MaxConcurrency limits requests in flight. Zero means DefaultMaxConcurrency.
	MaxConcurrency int `yaml:"max_concurrency,omitempty" json:"max_concurrency,omitempty"`
	// NodeConcurrency limits requests in flight to one node (a path under
	// /nodes/{node}/; the rest count for no node). Zero means
	// DefaultNodeConcurrency. MaxConcurrency bounds the total on top.
	NodeConcurrency int `yaml:"node_concurrency,omitempty" json:"node_concurrency,omitempty"`
	// Retries is how often an idempotent GET is retried after a transient
	// failure. Zero means DefaultRetries; negative means never.
	Retries int `yaml:"retries,omitempty" json:"retries,omitempty"`
}

// Environment variables that override the config file.
const (
	EnvURL             = "FELHOM_PVE_URL"
	EnvTokenID         = "FELHOM_PVE_TOKEN_ID"
	EnvTokenSecret     = "FELHOM_PVE_TOKEN_SECRET"
	EnvTokenSecretFile = "FELHOM_PVE_TOKEN_SECRET_FILE"
	EnvFingerprint     = "FELHOM_PVE_FINGERPRINT"
	EnvCAFile          = "FELHOM_PVE_CA_FILE"
	EnvInsecure        = "FELHOM_PVE_INSECURE"
	EnvTimeout         = "FELHOM_PVE_TIMEOUT"
	EnvMaxConcurrency  = "FELHOM_PVE_MAX_CONCURRENCY"
	EnvRetries         = "FELHOM_PVE_RETRIES"
)

// PrivilegedSection is the config file's section for the privileged
// backend; ParseConfig skips it (privileged.ParseConfig reads it).
const PrivilegedSection = "privileged"

// ParseConfig parses a YAML config document. Its errors are *ConfigError
// with the line (File is empty): unknown keys (naming the known ones), keys
// given twice, values of the wrong kind (never echoing the value, which may
// be the secret in the wrong place) and YAML syntax. It does no I/O:
// TokenSecretFile is not read and the result is not validated.
func ParseConfig(data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, yamlSyntaxError(err)
	}
	var c Config
	if len(doc.Content) == 0 {
		return c, nil // empty document
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return Config{}, &ConfigError{Line: top.Line, Msg: "want keys such as url: https://pve:8006"}
	}
	fields := configFields(&c)
	first := map[string]int{} // key → line
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value == PrivilegedSection {
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			known := append(configKeys(), PrivilegedSection)
			return Config{}, &ConfigError{Line: k.Line, Msg: fmt.Sprintf("unknown key %q%s (known: %s)", k.Value, DidYouMean(k.Value, known), strings.Join(known, ", "))}
		}
		if line, ok := first[k.Value]; ok {
			return Config{}, &ConfigError{Line: k.Line, Msg: fmt.Sprintf("key %q given twice (first on line %d)", k.Value, line)}
		}
		first[k.Value] = k.Line
		if err := v.Decode(f.ptr); err != nil {
			// Not err: yaml.v3's message names Go types and quotes the value.
			return Config{}, &ConfigError{Line: v.Line, Msg: fmt.Sprintf("%s: want %s", k.Value, f.want)}
		}
	}
	return c, nil
}

// ConfigError is a mistake in a config file, with where it is. It reads
// `config FILE:LINE: msg`, or `config line LINE: msg` without a file.
type ConfigError struct {
	File string // the file; "" from ParseConfig
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong, naming the key
}

func (e *ConfigError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("config %s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return fmt.Sprintf("config %s: %s", e.File, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("config line %d: %s", e.Line, e.Msg)
	}
	return "config: " + e.Msg
}

// yamlLineRE finds the line in yaml.v3's syntax errors ("yaml: line 2: ...").
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns yaml.v3's syntax error into a *ConfigError. Syntax
// errors name the problem, not the value.
func yamlSyntaxError(err error) *ConfigError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{Line: line, Msg: m[2]}
	}
	return &ConfigError{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// configField is a Config field as the YAML file names it.
type configField struct {
	ptr  any    // pointer to the field
	want string // what a value must be, for errors
}

// configFields maps each YAML key to c's field, from the yaml tags.
func configFields(c *Config) map[string]configField {
	fields := map[string]configField{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		f := v.Field(i)
		want := "a string"
		switch {
		case f.Type() == reflect.TypeFor[time.Duration]():
			want = "a duration such as 60s"
		case f.Kind() == reflect.Bool:
			want = "true or false"
		case f.Kind() == reflect.Int:
			want = "an integer"
		}
		fields[key] = configField{ptr: f.Addr().Interface(), want: want}
	}
	return fields
}

// configKeys lists the YAML keys in Config's field order.
func configKeys() []string {
	t := reflect.TypeFor[Config]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		keys = append(keys, key)
	}
	return keys
}

// LoadConfig reads the YAML file at path (none when path is ""), applies the
// FELHOM_PVE_* variables from getenv over it, reads TokenSecretFile, and
// validates the result. getenv is os.Getenv in production.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	var c Config
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if c, err = ParseConfig(data); err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				ce.File = path
				return Config{}, ce
			}
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c, err := c.withEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	if c.TokenSecretFile != "" {
		if c.TokenSecret != "" {
			return Config{}, errors.New("config: token_secret and token_secret_file are both set")
		}
		b, err := os.ReadFile(c.TokenSecretFile)
		if err != nil {
			// The error names the file (as shown), never its content.
			return Config{}, fmt.Errorf("config: token_secret_file %s: %w", c.shown(c.TokenSecretFile), pathErrorCause(err))
		}
		c.TokenSecret = Secret(strings.TrimSpace(string(b)))
		if c.TokenSecret == "" {
			return Config{}, fmt.Errorf("config: token_secret_file %s is empty", c.shown(c.TokenSecretFile))
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// withEnv returns c with the environment overrides applied. Its errors name
// the variable but not its value, which may be the secret set by mistake. An override that
// sets the secret directly clears a file from the config file, and the other
// way round, so that the environment always wins.
func (c Config) withEnv(getenv func(string) string) (Config, error) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.URL, EnvURL)
	set(&c.TokenID, EnvTokenID)
	if v := getenv(EnvTokenSecret); v != "" {
		c.TokenSecret, c.TokenSecretFile = Secret(v), ""
	}
	if v := getenv(EnvTokenSecretFile); v != "" {
		c.TokenSecretFile, c.TokenSecret = v, ""
	}
	set(&c.Fingerprint, EnvFingerprint)
	set(&c.CAFile, EnvCAFile)
	if v := getenv(EnvInsecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("config: %s: want true or false", EnvInsecure)
		}
		c.Insecure = b
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("config: %s: want a duration such as 60s", EnvTimeout)
		}
		c.Timeout = d
	}
	for _, e := range []struct {
		name string
		dst  *int
	}{{EnvMaxConcurrency, &c.MaxConcurrency}, {EnvRetries, &c.Retries}} {
		if v := getenv(e.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("config: %s: want an integer", e.name)
			}
			*e.dst = n
		}
	}
	return c, nil
}

// Validate checks that c is complete and consistent. Its errors never contain
// the secret, nor any value that could be it (see shown).
func (c Config) Validate() error {
	var errs []error
	shownURL := c.shown(displayURL(c.URL))
	if c.URL == "" {
		errs = append(errs, errors.New("url is required"))
	} else if u, err := url.Parse(c.URL); err != nil {
		// url.Error quotes the whole URL, password included: never wrap it.
		if shownURL == c.URL {
			errs = append(errs, fmt.Errorf("url %q: not a valid URL: %v", shownURL, unwrapURLError(err)))
		} else {
			errs = append(errs, fmt.Errorf("url %q: not a valid URL", shownURL))
		}
	} else if shownURL != displayURL(c.URL) {
		// A URL that holds the secret would be shown by every transport
		// error (a failed name lookup names the host): refuse it here.
		errs = append(errs, fmt.Errorf("url %q: holds the token secret or a value shaped like one (a UUID); the secret goes in token_secret", shownURL))
	} else if u.User != nil {
		errs = append(errs, errors.New("url must not carry credentials (use token_id and token_secret)"))
	} else if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("url %q: must not have a query or fragment (the client adds the path and parameters itself)", shownURL))
	} else if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("url %q: want https://host:8006", shownURL))
	} else if u.Scheme == "http" && !c.Insecure {
		errs = append(errs, fmt.Errorf("url %q: plain http needs insecure: true", shownURL))
	}
	if c.TokenID == "" {
		errs = append(errs, errors.New("token_id is required"))
	} else if _, _, err := splitTokenID(c.TokenID); errors.Is(err, errTokenIDWithSecret) {
		errs = append(errs, err)
	} else if err != nil {
		errs = append(errs, fmt.Errorf("token_id %q: %w", c.shown(c.TokenID), err))
	}
	if c.TokenSecret == "" {
		errs = append(errs, errors.New("token_secret (or token_secret_file) is required"))
	} else if strings.ContainsAny(c.TokenSecret.Reveal(), "\r\n") {
		errs = append(errs, errors.New("token_secret contains a line break"))
	}
	if c.Fingerprint != "" {
		if _, err := parseFingerprint(c.Fingerprint); err != nil {
			errs = append(errs, fmt.Errorf("fingerprint %q: %w", c.shown(c.Fingerprint), err))
		}
	}
	n := 0
	for _, set := range []bool{c.Fingerprint != "", c.CAFile != "", c.Insecure} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("fingerprint, ca_file and insecure exclude each other"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, errors.New("max_concurrency must not be negative"))
	}
	if c.NodeConcurrency < 0 {
		errs = append(errs, errors.New("node_concurrency must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// splitTokenID splits user@realm!tokenname. Its errors do not show id (the
// caller shows it as Config.shown allows). An id with '=' is most likely
// pasted in PVE's user@realm!tokenname=SECRET form (as in the Authorization
// header), so its error is errTokenIDWithSecret, which callers show alone.
func splitTokenID(id string) (user, token string, err error) {
	if strings.Contains(id, "=") {
		return "", "", errTokenIDWithSecret
	}
	user, token, ok := strings.Cut(id, "!")
	if !ok || token == "" || !strings.Contains(user, "@") || strings.ContainsAny(id, " \t\r\n") {
		return "", "", errors.New("want user@realm!tokenname")
	}
	return user, token, nil
}

// errTokenIDWithSecret: a token id in the user@realm!tokenname=SECRET form.
var errTokenIDWithSecret = errors.New("token_id must not include the secret (the part after '=' goes in token_secret)")

// uuidRE matches a UUID anywhere in a value. PVE's token secrets are UUIDs
// (pve-semantics.md, "PVEAPIToken=<user>@<realm>!<tokenid>=<secret-uuid>"),
// so a UUID in some other config value may be a secret given for the wrong key.
var uuidRE = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// shown is a config value as an error may show it: the configured secret and
// anything shaped like a token secret (a UUID) are replaced by [REDACTED]. A
// value that is the secret is hidden whole; a secret inside a value is
// replaced only when it has 8 or more characters (a real one has 36), so that
// a test's one-letter secret does not blank every "s" of a URL.
func (c Config) shown(v string) string {
	switch s := c.TokenSecret.Reveal(); {
	case s != "" && v == s:
		return redacted
	case len(s) >= 8:
		v = strings.ReplaceAll(v, s, redacted)
	}
	return uuidRE.ReplaceAllString(v, redacted)
}

// pathErrorCause is err without *fs.PathError's "open PATH: " (the caller
// names the file as shown allows).
func pathErrorCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// displayURL is a configured URL as errors may show it: the user info (up to
// the last '@', which may hold a password, also when the URL does not parse)
// and the query and fragment are replaced by [REDACTED]. The client never
// sends either, so nothing useful is lost.
func displayURL(raw string) string {
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i+1] + redacted
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		start := 0
		if j := strings.Index(s[:i], "://"); j >= 0 {
			start = j + len("://")
		}
		s = s[:start] + redacted + s[i:]
	}
	return s
}

// DidYouMean returns ` (did you mean "KEY"?)` for the known key closest to
// an unknown one (compared in lower case with '-' read as '_', so tokenId
// and max-concurrency find token_id and max_concurrency), or "".
func DidYouMean(key string, known []string) string {
	norm := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	best := typo.Closest(norm, known, max(1, utf8.RuneCountInString(norm)/3))
	if best == "" || best == key {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
