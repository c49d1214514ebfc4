package source

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer serves u.base over SSH on loopback: a real SSH handshake
// (golang.org/x/crypto/ssh) whose exec requests run git upload-pack, as
// sshd does for a forge. It accepts the client key clientPub only, and
// returns its URL and its host key.
func (u *upstream) sshServer(clientPub ssh.PublicKey) (string, ssh.PublicKey) {
	u.t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		u.t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		u.t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(key.Marshal(), clientPub.Marshal()) {
			return nil, nil
		}
		return nil, errString("unknown key")
	}}
	cfg.AddHostKey(hostKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go u.serveSSH(c, cfg)
		}
	}()
	return "ssh://git@" + l.Addr().String() + "/specs.git", hostKey.PublicKey()
}

func (u *upstream) serveSSH(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					req.Reply(req.Type == "env", nil)
					continue
				}
				cmdline := string(req.Payload[4:])
				prog, arg, _ := strings.Cut(cmdline, " ")
				if prog != "git-upload-pack" {
					req.Reply(false, nil)
					return
				}
				req.Reply(true, nil)
				repo := filepath.Join(u.base, strings.Trim(arg, "'/"))
				cmd := exec.Command("git", "upload-pack", repo)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					status = 1
				}
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], status)
				ch.SendRequest("exit-status", false, b[:])
				return
			}
		}()
	}
}

// clientKey writes an SSH private key file (with passphrase when not "").
func clientKey(t *testing.T, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	return name, sp
}

func knownHostsFile(t *testing.T, url string, key ssh.PublicKey) string {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(url, "ssh://git@"), "/specs.git")
	return secretFile(t, knownhosts.Line([]string{knownhosts.Normalize(host)}, key))
}

func TestGitSSH(t *testing.T) {
	u := newUpstream(t)
	c1 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	keyFile, pub := clientKey(t, "")
	url, hostKey := u.sshServer(pub)

	// The host key in known_hosts, the client key accepted.
	g := newGitSource(t, GitConfig{URL: url, SSHKeyFile: keyFile, KnownHostsFile: knownHostsFile(t, url, hostKey)})
	if rev := fetch(t, g); rev.ID != c1.String() {
		t.Fatalf("ssh: %s, want %s", rev.ID, c1)
	}

	// Another host key in known_hosts: refused.
	_, otherHost := clientKey(t, "")
	_, err := newGitSource(t, GitConfig{URL: url, SSHKeyFile: keyFile, KnownHostsFile: knownHostsFile(t, url, otherHost)}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("wrong host key: %v", err)
	}

	// A client key the server does not know: refused.
	strangerKey, _ := clientKey(t, "")
	_, err = newGitSource(t, GitConfig{URL: url, SSHKeyFile: strangerKey, KnownHostsFile: knownHostsFile(t, url, hostKey)}).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown client key: %v", err)
	}

	// Any host key, when configured so, with a warning.
	var logs bytes.Buffer
	g, err = NewGit(GitConfig{URL: url, SSHKeyFile: keyFile, InsecureIgnoreHostKey: true}, t.TempDir(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if rev := fetch(t, g); rev.ID != c1.String() {
		t.Fatalf("insecure: %s", rev.ID)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "any SSH host key is accepted") {
		t.Fatalf("no warning for insecure_ignore_host_key: %s", logs.String())
	}
}

func TestGitSSHKeyPassphrase(t *testing.T) {
	u := newUpstream(t)
	c1 := u.commit(map[string]*string{"a.yaml": ptr(ctYAML("a", 100, 512))}, git.CommitOptions{})
	u.push()
	keyFile, pub := clientKey(t, "pass-phr4se")
	url, hostKey := u.sshServer(pub)
	kh := knownHostsFile(t, url, hostKey)
	_, err := NewGit(GitConfig{URL: url, SSHKeyFile: keyFile, KnownHostsFile: kh}, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "the key has a passphrase; put it in ssh_key_passphrase_file") {
		t.Fatalf("no passphrase: %v", err)
	}
	_, err = NewGit(GitConfig{URL: url, SSHKeyFile: keyFile, SSHKeyPassphraseFile: secretFile(t, "wr0ng-phrase"), KnownHostsFile: kh}, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "not a usable private key (or a wrong passphrase)") || strings.Contains(err.Error(), "wr0ng") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	g := newGitSource(t, GitConfig{URL: url, SSHKeyFile: keyFile, SSHKeyPassphraseFile: secretFile(t, "pass-phr4se"), KnownHostsFile: kh})
	if rev := fetch(t, g); rev.ID != c1.String() {
		t.Fatalf("with passphrase: %s", rev.ID)
	}
}
