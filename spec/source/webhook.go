package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/felhom/felhom/pve"
)

// Secret is the webhook's shared secret. It is pve.Secret: it redacts
// itself in every print, log and serialisation.
type Secret = pve.Secret

// MaxWebhookBody bounds a webhook request's body (the signature covers all
// of it, so it is read whole). Push payloads are far smaller.
const MaxWebhookBody = 8 << 20

// ReadSecretFile reads a webhook secret from a file, surrounding white space
// trimmed. Its errors never show the content.
func ReadSecretFile(name string) (Secret, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("webhook secret: %s is empty", name)
	}
	return Secret(s), nil
}

// NewWebhook returns the handler for a forge's push webhook: a POST whose
// signature checks out against secret calls trigger (which must not block,
// such as Git.Trigger) and answers 202. It accepts GitHub's
// X-Hub-Signature-256 (sha256= and the hex HMAC-SHA256 of the body),
// Gitea's and Forgejo's X-Gitea-Signature / X-Forgejo-Signature (the hex
// HMAC-SHA256 of the body) and GitLab's X-Gitlab-Token (the secret itself),
// each compared in constant time. A request with none of them gets 401, a
// wrong or malformed one 403, another method than POST 405, a body above
// MaxWebhookBody 413. Refusals are logged with the sender's address and the
// reason; neither the secret nor a header's value is ever logged. An empty
// secret refuses every request.
func NewWebhook(secret Secret, trigger func(), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &webhook{secret: []byte(secret.Reveal()), trigger: trigger, log: log}
}

type webhook struct {
	secret  []byte
	trigger func()
	log     *slog.Logger
}

// errBadSignature is a signature header present but not matching.
var errBadSignature = errors.New("the signature does not match the body and the secret")

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func(code int, provider, reason string) {
		h.log.Warn("webhook: refused", "remote", r.RemoteAddr, "provider", provider, "status", code, "reason", reason)
		http.Error(w, reason, code)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, "", "only POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body above %d bytes", MaxWebhookBody))
			return
		}
		refuse(http.StatusBadRequest, "", "cannot read the body")
		return
	}
	provider, event, err := h.check(r.Header, body)
	switch {
	case provider == "":
		refuse(http.StatusUnauthorized, "", "no signature: want X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token")
		return
	case err != nil:
		refuse(http.StatusForbidden, provider, err.Error())
		return
	}
	h.log.Info("webhook: accepted; fetching", "remote", r.RemoteAddr, "provider", provider, "event", event)
	if h.trigger != nil {
		h.trigger()
	}
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, "fetching\n")
}

// check verifies the first signature header the request has, in the order
// GitHub, Gitea/Forgejo, GitLab; provider is "" when it has none.
func (h *webhook) check(hdr http.Header, body []byte) (provider, event string, err error) {
	if len(h.secret) == 0 {
		err = errors.New("the webhook has no secret configured")
	}
	switch {
	case hdr.Get("X-Hub-Signature-256") != "":
		provider, event = "github", hdr.Get("X-GitHub-Event")
		if err == nil {
			sig, ok := strings.CutPrefix(hdr.Get("X-Hub-Signature-256"), "sha256=")
			err = h.checkHMAC(sig, ok, body)
		}
	case hdr.Get("X-Gitea-Signature") != "" || hdr.Get("X-Forgejo-Signature") != "":
		provider, event = "gitea", hdr.Get("X-Gitea-Event")
		sig := hdr.Get("X-Gitea-Signature")
		if sig == "" {
			provider, event, sig = "forgejo", hdr.Get("X-Forgejo-Event"), hdr.Get("X-Forgejo-Signature")
		}
		if err == nil {
			err = h.checkHMAC(sig, true, body)
		}
	case hdr.Get("X-Gitlab-Token") != "":
		provider, event = "gitlab", hdr.Get("X-Gitlab-Event")
		if err == nil {
			// Hashed first, so the compare takes the same time whatever
			// the token's length.
			got, want := sha256.Sum256([]byte(hdr.Get("X-Gitlab-Token"))), sha256.Sum256(h.secret)
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				err = errors.New("the token does not match the secret")
			}
		}
	}
	return provider, event, err
}

// checkHMAC compares a hex HMAC-SHA256 of body with the secret's.
func (h *webhook) checkHMAC(sig string, wellFormed bool, body []byte) error {
	got, err := hex.DecodeString(sig)
	if !wellFormed || err != nil || len(got) != sha256.Size {
		return errors.New("the signature is not a hex HMAC-SHA256")
	}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}
