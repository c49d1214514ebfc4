package privileged

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/felhom/felhom/internal/typo"

	"go.yaml.in/yaml/v3"
)

// DefaultPCT is where PVE installs pct.
const DefaultPCT = "/usr/sbin/pct"

// DefaultTimeout bounds one pct run when the configuration does not say.
// `pct set` takes the container's config lock (10 s in PVE's lock_config)
// and, for a running container, hot-plugs mounts and devices.
const DefaultTimeout = 2 * time.Minute

// Config is the privileged section of felhom's configuration file:
//
//	privileged:
//	  enabled: true          # off unless set
//	  pct: /usr/sbin/pct     # the program to run
//	  timeout: 2m            # per run
//	  env: [LANG=C.UTF-8]    # extra environment for pct
//
// The zero value is the backend switched off.
type Config struct {
	// Enabled switches the backend on. Even then it runs only as root on
	// the container's node (Runner.Available).
	Enabled bool `yaml:"enabled"`
	// PCT is the absolute path of pct; DefaultPCT when empty.
	PCT string `yaml:"pct"`
	// Timeout bounds one run; DefaultTimeout when zero.
	Timeout time.Duration `yaml:"timeout"`
	// Env are NAME=value pairs added to pct's environment, which is
	// otherwise only PATH and LC_ALL=C (so PVE's messages are not
	// translated). They are never logged.
	Env []string `yaml:"env"`
}

// withDefaults fills the defaults in.
func (c Config) withDefaults() Config {
	if c.PCT == "" {
		c.PCT = DefaultPCT
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate checks the configuration: an absolute pct path, a positive
// timeout, NAME=value pairs.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !filepath.IsAbs(c.PCT) {
		errs = append(errs, fmt.Errorf("privileged.pct %q: want an absolute path", c.PCT))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("privileged.timeout: want a positive duration"))
	}
	for i, e := range c.Env {
		if name, _, ok := strings.Cut(e, "="); !ok || name == "" {
			errs = append(errs, fmt.Errorf("privileged.env[%d]: want NAME=value", i))
		}
	}
	return errors.Join(errs...)
}

// ParseConfig reads the privileged section of a felhom configuration
// document (the other keys are the PVE connection's, read by pve). A
// document without the section is the backend switched off. Errors name the
// key and line, never a value.
func ParseConfig(data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	var c Config
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return c, nil
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "privileged" {
			continue
		}
		sec := top.Content[i+1]
		if sec.Kind != yaml.MappingNode {
			return Config{}, fmt.Errorf("config line %d: privileged: want keys such as enabled: true", sec.Line)
		}
		for j := 0; j+1 < len(sec.Content); j += 2 {
			k, v := sec.Content[j], sec.Content[j+1]
			var dst any
			want := ""
			switch k.Value {
			case "enabled":
				dst, want = &c.Enabled, "true or false"
			case "pct":
				dst, want = &c.PCT, "a path"
			case "timeout":
				dst, want = &c.Timeout, "a duration such as 2m"
			case "env":
				dst, want = &c.Env, "a list of NAME=value"
			default:
				hint := ""
				if best := typo.Closest(strings.ToLower(k.Value), []string{"enabled", "env", "pct", "timeout"}, max(1, len(k.Value)/3)); best != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", best)
				}
				return Config{}, fmt.Errorf("config line %d: unknown key privileged.%s%s (known: enabled, pct, timeout, env)", k.Line, k.Value, hint)
			}
			if err := v.Decode(dst); err != nil {
				return Config{}, fmt.Errorf("config line %d: privileged.%s: want %s", v.Line, k.Value, want)
			}
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
