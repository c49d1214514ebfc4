package pvesim

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Sim is a simulated PVE cluster. All methods are safe for concurrent use.
type Sim struct {
	mu sync.Mutex

	clock   *Clock
	cluster string
	nodes   []*simNode
	node    map[string]*simNode
	cts     map[int]*simCT
	vms     map[int]simVM // QEMU guests, by vmid
	users   map[string]*simUser
	tokens  map[string]*simToken // by full token id user@realm!name
	// permCache holds each token's privileges per ACL path (ACLs do not
	// change after New).
	permCache map[string]map[string]bool

	tasks    map[string]*task // by UPID string
	taskList []*task          // every task, in start order
	running  []*task          // tasks not yet finished, in start order
	lastPID  uint32

	taskDuration time.Duration
	authDelay    time.Duration
	legacyErrors bool
	latency      Latency
	// workers is the per-node worker limit; pools holds each node's
	// workers (built once in New).
	workers      int
	pools        map[string]*workerPool
	faults       []*faultRule
	outcomes     []*outcomeRule
	holds        []*lockHold
	counts       map[string]int
	rnd          *mrand.Rand
	controlToken string
	stateFile    string
	// fingerprint is the served certificate's (set by
	// ListenAndServeTLS), every node's ssl_fingerprint.
	fingerprint string
	// serverLog is where the HTTPS server's error log goes (nil:
	// os.Stderr); tests capture it.
	serverLog io.Writer

	closing   chan struct{}
	closeOnce sync.Once
}

// Option configures New.
type Option func(*Sim)

// WithClock makes the simulator run on c (default: a real clock).
func WithClock(c *Clock) Option { return func(s *Sim) { s.clock = c } }

// WithTaskDuration sets how long each task runs on the simulator's clock
// (default 0: a task has finished when its UPID is returned).
func WithTaskDuration(d time.Duration) Option { return func(s *Sim) { s.taskDuration = d } }

// WithLegacyErrors makes error responses use the pre-8.4 form: the body is
// {"data":null} (plus "errors" for 400) and the text is only in the HTTP
// reason phrase.
func WithLegacyErrors() Option { return func(s *Sim) { s.legacyErrors = true } }

// WithAuthFailureDelay makes a refused authentication (401) wait d before
// the answer, as pveproxy waits 3 s. Default 0.
func WithAuthFailureDelay(d time.Duration) Option { return func(s *Sim) { s.authDelay = d } }

// WithLatency delays every API request (see Sim.SetLatency).
func WithLatency(l Latency) Option { return func(s *Sim) { s.latency = l } }

// WithSeed seeds the randomness used for jitter and fault rates, for
// reproducible runs.
func WithSeed(seed uint64) Option {
	return func(s *Sim) { s.rnd = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithControlToken sets the secret the control endpoint (/_felhom/sim/)
// requires as "Authorization: FelhomSim <token>". Default: a random one,
// reported by ControlToken.
func WithControlToken(tok string) Option { return func(s *Sim) { s.controlToken = tok } }

// WithStateFile makes the simulator write its state (as an Inventory) to
// path after every change, so that it survives a restart when loaded again.
func WithStateFile(path string) Option { return func(s *Sim) { s.stateFile = path } }

// New builds a simulator from inv. It checks the inventory: unknown storage
// types, configs that do not parse, duplicate vmids and volumes on storages
// the node does not have are errors.
func New(inv *Inventory, opts ...Option) (*Sim, error) {
	s := &Sim{
		clock:     RealClock(),
		node:      map[string]*simNode{},
		cts:       map[int]*simCT{},
		vms:       map[int]simVM{},
		users:     map[string]*simUser{},
		tokens:    map[string]*simToken{},
		permCache: map[string]map[string]bool{},
		tasks:     map[string]*task{},
		counts:    map[string]int{},
		closing:   make(chan struct{}),
		workers:   DefaultWorkers,
	}
	for _, o := range opts {
		o(s)
	}
	if s.rnd == nil {
		s.rnd = mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
	}
	if s.controlToken == "" {
		s.controlToken = randomUUID()
	}
	if err := s.load(inv); err != nil {
		return nil, err
	}
	s.pools = map[string]*workerPool{}
	for _, n := range s.nodes {
		s.pools[n.name] = &workerPool{limit: s.workers}
	}
	return s, nil
}

// Handler returns the simulator's HTTP handler: PVE's API under /api2/json/
// and the control endpoint under /_felhom/sim/.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close ends hanging requests and stops accepting work. A Server's Close
// calls it.
func (s *Sim) Close() { s.closeOnce.Do(func() { close(s.closing) }) }

// Credentials are an API token's id and secret as a client sends them:
// "Authorization: PVEAPIToken=<TokenID>=<Secret>".
type Credentials struct {
	// TokenID is the full token id, user@realm!name.
	TokenID string
	Secret  string
}

// Tokens returns every API token's credentials, sorted by token id.
func (s *Sim) Tokens() []Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Credentials
	for id, t := range s.tokens {
		out = append(out, Credentials{TokenID: id, Secret: t.secret})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TokenID < out[j].TokenID })
	return out
}

// Token returns the credentials of the token with full id tokenID.
func (s *Sim) Token(tokenID string) (Credentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return Credentials{}, false
	}
	return Credentials{TokenID: tokenID, Secret: t.secret}, true
}

// ControlToken returns the secret of the control endpoint.
func (s *Sim) ControlToken() string { return s.controlToken }

// Clock returns the simulator's clock.
func (s *Sim) Clock() *Clock { return s.clock }

// SetTaskDuration changes how long new tasks run on the simulator's clock.
func (s *Sim) SetTaskDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taskDuration = d
}

// SetLatency sets the delay added to every API request.
func (s *Sim) SetLatency(l Latency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = l
}

// InjectFault adds a fault rule. Rules are tried in the order added; the
// first that matches (and whose rate hits) applies.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind == "" {
		f.Kind = FaultStatus
	}
	s.faults = append(s.faults, &faultRule{Fault: f})
}

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetTaskOutcome adds a task steering rule. Rules are tried in the order
// added; the first that matches a new task applies.
func (s *Sim) SetTaskOutcome(o TaskOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, &outcomeRule{TaskOutcome: o})
}

// ClearTaskOutcomes removes every task steering rule.
func (s *Sim) ClearTaskOutcomes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = nil
}

// HoldLock sets lock (e.g. "backup") on the container's config for d on the
// simulator's clock, as if a backup job held it, then removes it. It fails
// when the container is already locked.
func (s *Sim) HoldLock(vmid int, lock string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle() // persisted below
	ct, ok := s.cts[vmid]
	if !ok {
		return fmt.Errorf("ct %d: does not exist", vmid)
	}
	if cur := ct.lock(); cur != "" {
		return fmt.Errorf("ct %d: already locked (%s)", vmid, cur)
	}
	if err := ct.setLock(lock); err != nil {
		return fmt.Errorf("ct %d: %w", vmid, err)
	}
	s.holds = append(s.holds, &lockHold{vmid: vmid, lock: lock, until: s.clock.Now().Add(d)})
	s.persist()
	return nil
}

// RequestCounts returns how many API requests each endpoint received, keyed
// by method and path template ("GET /nodes/{node}/lxc/{vmid}/config").
// Requests to unknown paths count under "<METHOD> ?".
func (s *Sim) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetRequestCounts sets every request count to zero.
func (s *Sim) ResetRequestCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// FinishTasks runs every running task to its end now, whatever the clock
// says, and returns how many it finished.
func (s *Sim) FinishTasks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.running {
		if !t.done {
			s.finishTask(t)
			n++
		}
	}
	s.pruneRunning()
	s.persist()
	return n
}

// ConfigText returns the container's config file text as it is now.
func (s *Sim) ConfigText(vmid int) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAndPersist()
	ct, ok := s.cts[vmid]
	if !ok {
		return "", false
	}
	return ct.text(), true
}

// Running reports whether the container is running.
func (s *Sim) Running(vmid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAndPersist()
	ct, ok := s.cts[vmid]
	return ok && ct.running
}

// Inventory returns the current state as an inventory (what --state
// writes): configs as text, backups, users and tokens with their secrets.
func (s *Sim) Inventory() *Inventory {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAndPersist()
	return s.snapshot()
}

// settleAndPersist brings the state up to the clock and writes the state
// file if that changed anything. The caller holds s.mu.
func (s *Sim) settleAndPersist() {
	if s.settle() {
		s.persist()
	}
}

// wait sleeps for d unless ctx ends or the simulator closes first.
func (s *Sim) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.closing:
	}
}

// randomUUID returns a random RFC 4122 version 4 UUID, the form of PVE's
// token secrets.
func randomUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
