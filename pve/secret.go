package pve

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret shows everywhere except Reveal.
const redacted = "[REDACTED]"

// Secret is a credential (the API token secret). It redacts itself in every
// way Go prints or serialises a value: fmt verbs (%v %s %q %x %#v ...),
// String, GoString, JSON, text and YAML marshalling, and slog. Only Reveal
// returns the value, and the client calls it in exactly one place: building
// the Authorization header.
type Secret string

// Reveal returns the secret's value. Use it only to authenticate.
func (s Secret) Reveal() string { return string(s) }

// String returns "[REDACTED]".
func (s Secret) String() string { return redacted }

// GoString returns "[REDACTED]", for %#v.
func (s Secret) GoString() string { return redacted }

// Format writes "[REDACTED]" for every verb; %q quotes it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", redacted)
		return
	}
	fmt.Fprint(f, redacted)
}

// MarshalJSON returns "[REDACTED]" as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[REDACTED]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML returns "[REDACTED]" (go.yaml.in/yaml/v3 Marshaler).
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue returns "[REDACTED]" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
