package source

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

// VerifyError is a head commit refused by signature verification: not
// signed, or not by a configured key. Its specs are never handed out.
type VerifyError struct {
	Commit string // the commit id
	Reason string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("commit %s refused: %s", e.Commit, e.Reason)
}

// keyring is the keys a head commit may be signed with.
type keyring struct {
	pgp     openpgp.EntityList
	sshKeys []ssh.PublicKey
}

// loadKeyring reads the configured key files; a file without a key is an
// error, so a mistyped file cannot turn verification into "nothing
// passes" silently (or into anything passing).
func loadKeyring(v VerifyConfig) (*keyring, error) {
	k := &keyring{}
	if v.OpenPGPKeyringFile != "" {
		f, err := os.Open(v.OpenPGPKeyringFile)
		if err != nil {
			return nil, &ConfigError{Key: "git.verify.openpgp_keyring_file", Msg: err.Error()}
		}
		defer f.Close()
		k.pgp, err = openpgp.ReadArmoredKeyRing(f)
		if err != nil || len(k.pgp) == 0 {
			return nil, &ConfigError{Key: "git.verify.openpgp_keyring_file", Msg: v.OpenPGPKeyringFile + ": no armored OpenPGP public key in it (gpg --export --armor KEY)"}
		}
	}
	if v.SSHKeysFile != "" {
		b, err := os.ReadFile(v.SSHKeysFile)
		if err != nil {
			return nil, &ConfigError{Key: "git.verify.ssh_keys_file", Msg: err.Error()}
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, err := parseSSHKeyLine(line)
			if err != nil {
				return nil, &ConfigError{Key: "git.verify.ssh_keys_file", Msg: fmt.Sprintf("%s:%d: not an SSH public key", v.SSHKeysFile, n)}
			}
			k.sshKeys = append(k.sshKeys, key)
		}
		if len(k.sshKeys) == 0 {
			return nil, &ConfigError{Key: "git.verify.ssh_keys_file", Msg: v.SSHKeysFile + ": no SSH public key in it"}
		}
	}
	return k, nil
}

// parseSSHKeyLine reads an authorized_keys line, or an allowed_signers line
// (principals, maybe options, then the key).
func parseSSHKeyLine(line string) (ssh.PublicKey, error) {
	if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
		return key, nil
	}
	fields := strings.Fields(line)
	for i := 1; i < len(fields); i++ {
		if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.Join(fields[i:], " "))); err == nil {
			return key, nil
		}
	}
	return nil, errors.New("no key")
}

const sshSigArmorStart = "-----BEGIN SSH SIGNATURE-----"

// verify checks that c is signed by a key of k: an OpenPGP signature
// against the key ring, an SSH signature (git's gpg.format ssh) against the
// SSH keys.
func (k *keyring) verify(c *object.Commit) error {
	refuse := func(format string, a ...any) error {
		return &VerifyError{Commit: c.Hash.String(), Reason: fmt.Sprintf(format, a...)}
	}
	sig := strings.TrimSpace(c.PGPSignature)
	if sig == "" {
		return refuse("it is not signed, and verify requires a signature by a configured key")
	}
	msg, err := unsignedCommit(c)
	if err != nil {
		return refuse("cannot encode it: %v", err)
	}
	if strings.HasPrefix(sig, sshSigArmorStart) {
		if len(k.sshKeys) == 0 {
			return refuse("it has an SSH signature and no ssh_keys_file is configured")
		}
		if _, err := verifySSHSig(sig, msg, k.sshKeys); err != nil {
			return refuse("SSH signature: %v", err)
		}
		return nil
	}
	if len(k.pgp) == 0 {
		return refuse("it has an OpenPGP signature and no openpgp_keyring_file is configured")
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(k.pgp, bytes.NewReader(msg), strings.NewReader(c.PGPSignature), nil); err != nil {
		return refuse("OpenPGP signature: %v", err)
	}
	return nil
}

// unsignedCommit is the commit's encoding without its signature: what was
// signed.
func unsignedCommit(c *object.Commit) ([]byte, error) {
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return nil, err
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// verifySSHSig checks an armored SSH signature (OpenSSH PROTOCOL.sshsig) of
// msg in git's namespace, made by one of keys, and returns that key.
func verifySSHSig(armored string, msg []byte, keys []ssh.PublicKey) (ssh.PublicKey, error) {
	body := strings.TrimSpace(strings.TrimPrefix(armored, sshSigArmorStart))
	body, ok := strings.CutSuffix(body, "-----END SSH SIGNATURE-----")
	if !ok {
		return nil, errors.New("not an armored SSH signature")
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, errors.New("not an armored SSH signature")
	}
	var wire struct {
		Version   uint32
		PublicKey []byte
		Namespace string
		Reserved  string
		Hash      string
		Signature []byte
	}
	if !bytes.HasPrefix(blob, []byte("SSHSIG")) {
		return nil, errors.New("not an SSHSIG blob")
	}
	if err := ssh.Unmarshal(blob[6:], &wire); err != nil {
		return nil, fmt.Errorf("malformed: %v", err)
	}
	if wire.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1", wire.Version)
	}
	if wire.Namespace != "git" {
		return nil, fmt.Errorf("namespace %q, want git", wire.Namespace)
	}
	pub, err := ssh.ParsePublicKey(wire.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("its public key: %v", err)
	}
	var known ssh.PublicKey
	for _, k := range keys {
		if bytes.Equal(k.Marshal(), pub.Marshal()) {
			known = k
		}
	}
	if known == nil {
		return nil, fmt.Errorf("made by %s %s, which is not in ssh_keys_file", pub.Type(), ssh.FingerprintSHA256(pub))
	}
	var h hash.Hash
	switch wire.Hash {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("hash %q, want sha256 or sha512", wire.Hash)
	}
	h.Write(msg)
	var sig ssh.Signature
	if err := ssh.Unmarshal(wire.Signature, &sig); err != nil {
		return nil, fmt.Errorf("malformed signature: %v", err)
	}
	if err := pub.Verify(sshSigSigned(wire.Namespace, wire.Hash, h.Sum(nil)), &sig); err != nil {
		return nil, fmt.Errorf("does not match the commit (%s %s): %v", pub.Type(), ssh.FingerprintSHA256(pub), err)
	}
	return known, nil
}

// sshSigSigned is the data an SSH signature signs (PROTOCOL.sshsig): the
// magic, the namespace, a reserved string, the hash name and the message's
// hash.
func sshSigSigned(namespace, hashName string, digest []byte) []byte {
	var b bytes.Buffer
	b.WriteString("SSHSIG")
	for _, s := range [][]byte{[]byte(namespace), nil, []byte(hashName), digest} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		b.Write(n[:])
		b.Write(s)
	}
	return b.Bytes()
}
