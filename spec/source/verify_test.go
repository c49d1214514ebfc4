package source

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	git "github.com/go-git/go-git/v5"
	"golang.org/x/crypto/ssh"
)

func newPGPKey(t *testing.T, name string) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.net", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return e, secretFile(t, buf.String())
}

// sshSigner signs commits as git does with gpg.format ssh: with
// ssh-keygen -Y sign when it is installed (OpenSSH's own code), else with
// an encoder here that follows PROTOCOL.sshsig.
type sshSigner struct {
	t       *testing.T
	key     ed25519.PrivateKey
	keyFile string
}

func newSSHKey(t *testing.T) (*sshSigner, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	return &sshSigner{t: t, key: priv, keyFile: keyFile}, string(ssh.MarshalAuthorizedKey(sp))
}

func (s *sshSigner) Sign(message io.Reader) ([]byte, error) {
	msg, err := io.ReadAll(message)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		cmd := exec.Command("ssh-keygen", "-Y", "sign", "-q", "-f", s.keyFile, "-n", "git")
		cmd.Stdin = bytes.NewReader(msg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			s.t.Fatalf("ssh-keygen -Y sign: %v: %s", err, stderr.String())
		}
		return out, nil
	}
	s.t.Log("ssh-keygen is not installed: signing with the test's own PROTOCOL.sshsig encoder")
	signer, err := ssh.NewSignerFromKey(s.key)
	if err != nil {
		return nil, err
	}
	digest := sha512.Sum512(msg)
	sig, err := signer.Sign(rand.Reader, sshSigSigned("git", "sha512", digest[:]))
	if err != nil {
		return nil, err
	}
	blob := append([]byte("SSHSIG"), ssh.Marshal(struct {
		Version                   uint32
		PublicKey                 []byte
		Namespace, Reserved, Hash string
		Signature                 []byte
	}{1, signer.PublicKey().Marshal(), "git", "", "sha512", ssh.Marshal(sig)})...)
	return []byte("-----BEGIN SSH SIGNATURE-----\n" + base64.StdEncoding.EncodeToString(blob) + "\n-----END SSH SIGNATURE-----\n"), nil
}

func TestGitVerifyOpenPGP(t *testing.T) {
	u := newUpstream(t)
	trusted, ring := newPGPKey(t, "ops")
	stranger, _ := newPGPKey(t, "stranger")
	url := u.gitDaemon()
	g := newGitSource(t, GitConfig{URL: url, Interval: time.Hour, Verify: &VerifyConfig{OpenPGPKeyringFile: ring}})

	signed := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{SignKey: trusted})
	u.push()
	if rev := fetch(t, g); rev.ID != signed.String() {
		t.Fatalf("signed commit: %s, want %s", rev.ID, signed)
	}

	for name, opts := range map[string]git.CommitOptions{
		"unsigned":           {},
		"signed by stranger": {SignKey: stranger},
	} {
		bad := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 4096))}, opts)
		u.push()
		_, err := g.Fetch(context.Background())
		var ve *VerifyError
		if !errors.As(err, &ve) || ve.Commit != bad.String() {
			t.Fatalf("%s: %v, want a VerifyError for %s", name, err, bad)
		}
		want := map[string]string{"unsigned": "it is not signed", "signed by stranger": "OpenPGP signature:"}[name]
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", name, err, want)
		}
		u.resetTo(signed)
		u.push()
	}

	// Under Run, a refused head is never signalled, and it is logged
	// loudly; the next good commit is.
	runSource(t, g)
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 8192))}, git.CommitOptions{})
	u.push()
	g.Trigger()
	good := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 1024))}, git.CommitOptions{SignKey: trusted})
	g.Trigger()
	u.push()
	g.Trigger()
	waitChanged(t, g.Changed())
	if rev := fetch(t, g); rev.ID != good.String() {
		t.Fatalf("after a refused head: %s, want %s", rev.ID, good)
	}
	wantFiles(t, Revision{FS: fetch(t, g).FS}, map[string]string{"a.yaml": ctYAML("a", 100, 1024)})
}

func TestGitVerifyRefusedHeadIsLogged(t *testing.T) {
	u := newUpstream(t)
	_, ring := newPGPKey(t, "ops")
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	var logs syncBuffer
	g, err := NewGit(GitConfig{URL: u.gitDaemon(), Interval: time.Hour, Verify: &VerifyConfig{OpenPGPKeyringFile: ring}}, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runSource(t, g)
	g.Trigger()
	deadline := time.Now().Add(waitFor)
	for !strings.Contains(logs.String(), "level=ERROR msg=\"source: REFUSED") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-g.Changed():
		t.Fatal("a refused head was signalled")
	default:
	}
}

func TestGitVerifySSH(t *testing.T) {
	u := newUpstream(t)
	signer, pub := newSSHKey(t)
	stranger, _ := newSSHKey(t)
	url := u.gitDaemon()
	// An allowed_signers line (a principal first) is read too.
	keys := secretFile(t, "# the release keys\nops@example.net "+pub)
	g := newGitSource(t, GitConfig{URL: url, Verify: &VerifyConfig{SSHKeysFile: keys}})

	good := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{Signer: signer})
	u.push()
	if rev := fetch(t, g); rev.ID != good.String() {
		t.Fatalf("SSH-signed commit: %s, want %s", rev.ID, good)
	}
	bad := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 4096))}, git.CommitOptions{Signer: stranger})
	u.push()
	_, err := g.Fetch(context.Background())
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Commit != bad.String() || !strings.Contains(err.Error(), "which is not in ssh_keys_file") {
		t.Fatalf("stranger's SSH signature: %v", err)
	}
	// An OpenPGP-signed commit with only SSH keys configured is refused.
	pgp, _ := newPGPKey(t, "ops")
	u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 4096))}, git.CommitOptions{SignKey: pgp})
	u.push()
	if _, err := g.Fetch(context.Background()); !errors.As(err, &ve) || !strings.Contains(err.Error(), "no openpgp_keyring_file is configured") {
		t.Fatalf("OpenPGP signature with SSH keys only: %v", err)
	}
}

// TestVerifySSHSigTampered: a signature does not carry over to other
// content.
func TestVerifySSHSigTampered(t *testing.T) {
	signer, pub := newSSHKey(t)
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(strings.NewReader("tree 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySSHSig(string(sig), []byte("tree 1\n"), []ssh.PublicKey{key}); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	if _, err := verifySSHSig(string(sig), []byte("tree 2\n"), []ssh.PublicKey{key}); err == nil || !strings.Contains(err.Error(), "does not match the commit") {
		t.Fatalf("tampered content: %v", err)
	}
}

func TestVerifyKeyFiles(t *testing.T) {
	for _, tc := range []struct {
		v    VerifyConfig
		want string
	}{
		{VerifyConfig{OpenPGPKeyringFile: secretFile(t, "not a key")}, "no armored OpenPGP public key"},
		{VerifyConfig{SSHKeysFile: secretFile(t, "# nothing\n")}, "no SSH public key in it"},
		{VerifyConfig{SSHKeysFile: secretFile(t, "ssh-ed25519 AAAAnotbase64")}, ":1: not an SSH public key"},
		{VerifyConfig{OpenPGPKeyringFile: "/nonexistent/keys.asc"}, "no such file"},
	} {
		if _, err := loadKeyring(tc.v); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.v, err, tc.want)
		}
	}
}
