package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/felhom/felhom/spec"
)

// Git is a git source: a bare clone under the state folder, fetched on an
// interval and when triggered, following a branch (force-pushes included),
// a tag or a pinned commit, optionally a sub-folder, optionally refusing a
// head commit not signed by a configured key.
type Git struct {
	cfg   GitConfig
	log   *slog.Logger
	clone string // the clone's folder
	ssh   bool
	keys  *keyring // nil without Verify
	*tracker
	wake chan struct{}

	mu   sync.Mutex // one fetch at a time
	repo *git.Repository
}

// NewGit makes a git source keeping its clone in a folder of its own under
// stateDir (named by a hash of the URL, so another repository never reuses
// it). It reads the credential and key files once, to fail early; they are
// read again at every fetch, so a rotated token is picked up.
func NewGit(cfg GitConfig, stateDir string, log *slog.Logger) (*Git, error) {
	if err := (Config{Git: &cfg}).Validate(); err != nil {
		return nil, err
	}
	if stateDir == "" {
		return nil, errors.New("source: a git source needs a state folder for its clone")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Branch == "" && cfg.Tag == "" && cfg.Commit == "" {
		cfg.Branch = DefaultBranch
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.Path = strings.Trim(filepath.ToSlash(filepath.Clean("/"+cfg.Path)), "/")
	sum := sha256.Sum256([]byte(cfg.URL))
	g := &Git{
		cfg: cfg, clone: filepath.Join(stateDir, "git", hex.EncodeToString(sum[:8])),
		tracker: newTracker(), wake: make(chan struct{}, 1),
	}
	g.log = log.With("source", g.String())
	g.ssh = isSSH(cfg.URL)
	if !g.ssh && (cfg.SSHKeyFile != "" || cfg.KnownHostsFile != "" || cfg.InsecureIgnoreHostKey) {
		return nil, &ConfigError{Key: "git.ssh_key_file", Msg: "ssh settings need an ssh:// or user@host:path URL"}
	}
	if g.ssh && cfg.KnownHostsFile == "" && !cfg.InsecureIgnoreHostKey {
		return nil, &ConfigError{Key: "git.known_hosts_file", Msg: "an ssh URL needs the host keys to trust (or insecure_ignore_host_key: true, for throw-away setups only)"}
	}
	if strings.HasPrefix(cfg.URL, "git://") && (cfg.TokenFile != "" || cfg.PasswordFile != "") {
		return nil, &ConfigError{Key: "git.url", Msg: "git:// carries no credentials; use https:// or ssh://"}
	}
	if _, err := g.auth(); err != nil {
		return nil, err
	}
	if cfg.Verify != nil {
		k, err := loadKeyring(*cfg.Verify)
		if err != nil {
			return nil, err
		}
		g.keys = k
	}
	if cfg.InsecureIgnoreHostKey {
		g.log.Warn("source: insecure_ignore_host_key is set: any SSH host key is accepted, so anyone on the path can serve these specs")
	}
	return g, nil
}

// String is the URL (without any user part) with what it follows.
func (g *Git) String() string {
	s := "git " + displayURL(g.cfg.URL)
	switch {
	case g.cfg.Tag != "":
		s += " tag " + g.cfg.Tag
	case g.cfg.Commit != "":
		s += " commit " + g.cfg.Commit
	default:
		s += " branch " + g.cfg.Branch
	}
	if g.cfg.Path != "" {
		s += " path " + g.cfg.Path
	}
	return s
}

// displayURL is raw without a user part (scp-like URLs keep their user,
// which is never a secret there).
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	u.User = nil
	return u.String()
}

// Changed implements Source.
func (g *Git) Changed() <-chan struct{} { return g.changed }

// Trigger makes Run fetch now (a webhook's trigger). It never blocks.
func (g *Git) Trigger() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// Fetch fetches from the remote and returns the head revision.
func (g *Git) Fetch(ctx context.Context) (Revision, error) {
	rev, err := g.update(ctx)
	if err != nil {
		return Revision{}, err
	}
	g.handOut(rev.ID)
	return rev, nil
}

// Run fetches every Interval and when triggered, until ctx ends.
func (g *Git) Run(ctx context.Context) error {
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-g.wake:
		}
		rev, err := g.update(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ve *VerifyError
			if errors.As(err, &ve) {
				g.log.Error("source: REFUSED: the head commit failed signature verification; its specs are not used", "commit", ve.Commit, "err", err)
			} else {
				g.log.Warn("source: fetch failed", "err", err)
			}
			continue
		}
		if g.saw(rev.ID) {
			g.log.Info("source: new revision", "revision", rev.ID)
		}
	}
}

// update fetches what the source follows and reads its head.
func (g *Git) update(ctx context.Context) (Revision, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	if err := g.open(); err != nil {
		return Revision{}, fmt.Errorf("source %s: clone folder %s: %w", g, g.clone, err)
	}
	if err := g.fetch(ctx); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Revision{}, fmt.Errorf("source %s: fetch: no answer within the timeout of %s: %w", g, g.cfg.Timeout, err)
		}
		return Revision{}, fmt.Errorf("source %s: fetch: %w", g, err)
	}
	c, err := g.head()
	if err != nil {
		return Revision{}, fmt.Errorf("source %s: %w", g, err)
	}
	if g.keys != nil {
		if err := g.keys.verify(c); err != nil {
			return Revision{}, err
		}
	}
	m, err := g.snapshot(c)
	if err != nil {
		return Revision{}, fmt.Errorf("source %s: commit %s: %w", g, c.Hash, err)
	}
	return Revision{ID: c.Hash.String(), FS: m, Time: c.Committer.When}, nil
}

// open opens the bare clone, making it on first use.
func (g *Git) open() error {
	if g.repo != nil {
		return nil
	}
	r, err := git.PlainOpen(g.clone)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(g.clone, 0o700); err != nil {
			return err
		}
		r, err = git.PlainInit(g.clone, true)
		if err == nil {
			_, err = r.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{g.cfg.URL}})
		}
	}
	if err != nil {
		return err
	}
	g.repo = r
	return nil
}

// refSpecs are what to fetch: forced, so a force-pushed branch or a moved
// tag is followed.
func (g *Git) refSpecs() []gitconfig.RefSpec {
	switch {
	case g.cfg.Tag != "":
		return []gitconfig.RefSpec{gitconfig.RefSpec("+refs/tags/" + g.cfg.Tag + ":refs/tags/" + g.cfg.Tag)}
	case g.cfg.Branch != "":
		return []gitconfig.RefSpec{gitconfig.RefSpec("+refs/heads/" + g.cfg.Branch + ":refs/remotes/origin/" + g.cfg.Branch)}
	}
	return []gitconfig.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}
}

func (g *Git) fetch(ctx context.Context) error {
	if g.cfg.Commit != "" {
		if _, err := g.repo.CommitObject(plumbing.NewHash(g.cfg.Commit)); err == nil {
			return nil // a pinned commit never changes: nothing to fetch
		}
	}
	auth, err := g.auth()
	if err != nil {
		return err
	}
	err = g.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", RefSpecs: g.refSpecs(), Auth: auth, Force: true, Tags: git.NoTags,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	// The transport's own text adds the server's answer body: left out.
	case (errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed)) && auth == nil:
		return fmt.Errorf("%w: the server wants credentials (token_file, or username and password_file)", transport.ErrAuthenticationRequired)
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return fmt.Errorf("%w: the server refused the credentials from %s", transport.ErrAuthenticationRequired, g.credentialFile())
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w: the server refused the credentials from %s", transport.ErrAuthorizationFailed, g.credentialFile())
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w (or the credentials may not read it)", transport.ErrRepositoryNotFound)
	}
	var noMatch git.NoMatchingRefSpecError
	if errors.As(err, &noMatch) {
		return fmt.Errorf("the remote has no %s", g.following())
	}
	return err
}

func (g *Git) following() string {
	switch {
	case g.cfg.Tag != "":
		return "tag " + g.cfg.Tag
	case g.cfg.Branch != "":
		return "branch " + g.cfg.Branch
	}
	return "branches"
}

func (g *Git) credentialFile() string {
	switch {
	case g.cfg.TokenFile != "":
		return "token_file " + g.cfg.TokenFile
	case g.cfg.PasswordFile != "":
		return "password_file " + g.cfg.PasswordFile
	case g.cfg.SSHKeyFile != "":
		return "ssh_key_file " + g.cfg.SSHKeyFile
	}
	return "(none configured)"
}

// head is the commit the source follows, as fetched.
func (g *Git) head() (*object.Commit, error) {
	var h plumbing.Hash
	switch {
	case g.cfg.Commit != "":
		h = plumbing.NewHash(g.cfg.Commit)
		c, err := g.repo.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("commit %s: not found in the fetched %s", g.cfg.Commit, g.following())
		}
		return c, nil
	case g.cfg.Tag != "":
		ref, err := g.repo.Reference(plumbing.NewTagReferenceName(g.cfg.Tag), true)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", g.cfg.Tag, err)
		}
		h = ref.Hash()
		if tag, err := g.repo.TagObject(h); err == nil { // annotated
			c, err := tag.Commit()
			if err != nil {
				return nil, fmt.Errorf("tag %s: %w", g.cfg.Tag, err)
			}
			return c, nil
		}
	default:
		ref, err := g.repo.Reference(plumbing.NewRemoteReferenceName("origin", g.cfg.Branch), true)
		if err != nil {
			return nil, fmt.Errorf("branch %s: %w", g.cfg.Branch, err)
		}
		h = ref.Hash()
	}
	c, err := g.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a commit: %w", g.following(), h, err)
	}
	return c, nil
}

// snapshot copies into memory what spec.Load reads of the commit's tree
// under Path: folders and *.yaml / *.yml files whose names do not start
// with "."; a link or an oversized file is kept by kind and size only, for
// Load to refuse by name.
func (g *Git) snapshot(c *object.Commit) (*memFS, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	if g.cfg.Path != "" {
		tree, err = tree.Tree(g.cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("path %s: not a folder in the commit", g.cfg.Path)
		}
	}
	m := newMemFS(c.Committer.When)
	return m, copyTree(m, tree, ".")
}

func copyTree(m *memFS, t *object.Tree, rel string) error {
	if len(t.Entries) == 0 && rel != "." {
		m.add(rel, &memNode{mode: fs.ModeDir | 0o555})
	}
	for _, e := range t.Entries {
		if strings.HasPrefix(e.Name, ".") {
			continue
		}
		r := pathJoin(rel, e.Name)
		switch e.Mode {
		case filemode.Dir:
			sub, err := t.Tree(e.Name)
			if err != nil {
				return err
			}
			if err := copyTree(m, sub, r); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable:
			if !isSpecName(e.Name) {
				continue
			}
			f, err := t.TreeEntryFile(&e)
			if err != nil {
				return err
			}
			if f.Size > spec.MaxFileSize {
				m.add(r, &memNode{mode: 0o444, size: f.Size, unread: fmt.Errorf("larger than %d bytes", spec.MaxFileSize)})
				continue
			}
			rd, err := f.Reader()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(rd, spec.MaxFileSize+1))
			rd.Close()
			if err != nil {
				return err
			}
			m.add(r, &memNode{mode: 0o444, data: data, size: int64(len(data))})
		case filemode.Symlink:
			// Where a link in a commit leads is the checkout's business;
			// it is not followed, and Load refuses a linked spec by name.
			if isSpecName(e.Name) {
				m.add(r, &memNode{mode: fs.ModeSymlink | 0o777, unread: errors.New("a symbolic link in the commit, not followed")})
			}
		}
		// Submodules are not part of the tree's content: skipped.
	}
	return nil
}

// auth reads the credential files and builds the transport's auth.
func (g *Git) auth() (transport.AuthMethod, error) {
	c := g.cfg
	switch {
	case g.ssh:
		if c.SSHKeyFile == "" {
			return nil, &ConfigError{Key: "git.ssh_key_file", Msg: "an ssh URL needs a key file"}
		}
		pass := ""
		if c.SSHKeyPassphraseFile != "" {
			p, err := readSecretFile("git.ssh_key_passphrase_file", c.SSHKeyPassphraseFile)
			if err != nil {
				return nil, err
			}
			pass = p
		}
		pemBytes, err := os.ReadFile(c.SSHKeyFile)
		if err != nil {
			return nil, &ConfigError{Key: "git.ssh_key_file", Msg: err.Error()}
		}
		var missing *ssh.PassphraseMissingError
		if _, err := ssh.ParsePrivateKey(pemBytes); errors.As(err, &missing) && pass == "" {
			return nil, &ConfigError{Key: "git.ssh_key_file", Msg: c.SSHKeyFile + ": the key has a passphrase; put it in ssh_key_passphrase_file"}
		}
		keys, err := gitssh.NewPublicKeys(sshUser(c.URL), pemBytes, pass)
		if err != nil {
			// Not err: a parser's message may quote what it read.
			return nil, &ConfigError{Key: "git.ssh_key_file", Msg: c.SSHKeyFile + ": not a usable private key (or a wrong passphrase)"}
		}
		if c.InsecureIgnoreHostKey {
			keys.HostKeyCallback = ssh.InsecureIgnoreHostKey()
		} else {
			cb, err := gitssh.NewKnownHostsCallback(c.KnownHostsFile)
			if err != nil {
				return nil, &ConfigError{Key: "git.known_hosts_file", Msg: fmt.Sprintf("%s: %v", c.KnownHostsFile, err)}
			}
			keys.HostKeyCallback = cb
		}
		return keys, nil
	case c.TokenFile != "":
		tok, err := readSecretFile("git.token_file", c.TokenFile)
		if err != nil {
			return nil, err
		}
		user := c.Username
		if user == "" {
			user = "git"
		}
		return &githttp.BasicAuth{Username: user, Password: tok}, nil
	case c.PasswordFile != "":
		pw, err := readSecretFile("git.password_file", c.PasswordFile)
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: c.Username, Password: pw}, nil
	}
	return nil, nil
}

// readSecretFile reads a credential file, trimmed; its errors never show
// the content.
func readSecretFile(key, name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", &ConfigError{Key: key, Msg: err.Error()}
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", &ConfigError{Key: key, Msg: name + " is empty"}
	}
	return s, nil
}

func isSSH(raw string) bool {
	if strings.HasPrefix(raw, "ssh://") {
		return true
	}
	return !strings.Contains(raw, "://")
}

// sshUser is the URL's user, git when it names none.
func sshUser(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "ssh" {
		if u.User != nil && u.User.Username() != "" {
			return u.User.Username()
		}
		return "git"
	}
	if user, _, ok := strings.Cut(raw, "@"); ok && !strings.Contains(user, ":") {
		return user
	}
	return "git"
}

// checkURL refuses a repository URL felhom cannot use or must not keep: an
// unknown scheme, or a password inside it (credentials come from files).
func checkURL(raw string) error {
	if !strings.Contains(raw, "://") {
		// scp-like user@host:path (ssh).
		if host, _, ok := strings.Cut(raw, ":"); ok && host != "" && !strings.ContainsAny(host, "/") {
			return nil
		}
		return errors.New("want an https://, http://, git:// or ssh:// URL, or user@host:path")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL") // url's error quotes it, password and all
	}
	switch u.Scheme {
	case "https", "http", "git", "ssh":
	default:
		return errors.New("scheme " + u.Scheme + " not supported: want https, http, git or ssh")
	}
	if _, ok := u.User.Password(); ok {
		return errors.New("holds a password; put it in password_file or token_file")
	}
	if u.Host == "" {
		return errors.New("names no host")
	}
	return nil
}
