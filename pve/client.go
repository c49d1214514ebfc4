package pve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// apiPrefix is the path of PVE's JSON API below the server URL.
const apiPrefix = "/api2/json"

// idleConnTimeout closes pooled connections before pveproxy does. pveproxy
// gives each client connection a 5 s inactivity timeout (pve-http-server
// src/PVE/APIServer/AnyEvent.pm new: "timeout = 5", used for the connection's
// AnyEvent::Handle while it waits for the next request) and closes it after any
// answer >= 400 (response: "keep_alive = 0 if code >= 400", sent as
// "Connection: close", which Go honours). A client that reuses an idle
// connection just as the server drops it sees "EOF" or "connection reset" on a
// request the server may or may not have read, and then must not repeat a
// POST. Closing our side first, a second inside that window, removes the
// race; for the rest Go's transport re-sends a request that failed before any
// byte was written (its body is replayable), and GETs are retried by do.
const idleConnTimeout = 4 * time.Second

// pveproxyIdleTimeout is pveproxy's inactivity timeout for a connection.
const pveproxyIdleTimeout = 5 * time.Second

// Client talks to one PVE API endpoint with one API token. It is safe for
// concurrent use. Create it with New.
type Client struct {
	base     string // scheme://host:port + apiPrefix, as text once (not per request)
	auth     string // the Authorization header value; never logged
	http     *http.Client
	log      *slog.Logger
	hook     func(method, pathTemplate string)
	observe  func(RequestInfo)
	wrap     func(http.RoundTripper) http.RoundTripper
	sem      chan struct{}
	perNode  int
	nodeMu   sync.Mutex
	nodeSem  map[string]chan struct{}
	timeout  time.Duration
	retries  int
	backoff  time.Duration                                    // first retry delay
	pollMin  time.Duration                                    // WaitTask's first poll interval
	pollMax  time.Duration                                    // WaitTask's longest poll interval
	now      func() time.Time                                 // WaitTask's clock (tests fake it)
	sleep    func(ctx context.Context, d time.Duration) error // WaitTask's wait between polls
	insecure bool
}

// defaultLogOutput is where a client without WithLogger writes its
// warnings: os.Stderr (a variable so that tests can catch it).
var defaultLogOutput io.Writer = os.Stderr

// Option configures a Client.
type Option func(*Client)

// WithLogger logs requests at debug level and warnings to l. Without it a
// client writes warnings, and nothing else, to stderr (see New); pass
// slog.New(slog.DiscardHandler) to silence them. The token secret never
// reaches the logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithRequestHook calls fn once for every HTTP request sent (every attempt,
// retries included) with the method and the endpoint's path template, e.g.
// ("GET", "/nodes/{node}/lxc/{vmid}/pending"). Benchmarks count calls with it.
// fn must be safe for concurrent use.
func WithRequestHook(fn func(method, pathTemplate string)) Option {
	return func(c *Client) { c.hook = fn }
}

// RequestInfo describes one HTTP request the client sent (one attempt:
// a retried GET is reported once per attempt), for metrics: it names the
// endpoint by its path template, never by its filled-in path, so that a
// metric label takes a bounded set of values.
type RequestInfo struct {
	Method   string // GET, POST, PUT or DELETE
	Endpoint string // the path template, e.g. "/nodes/{node}/lxc/{vmid}/config"
	// Status is the HTTP status of the answer; 0 when none came (a network
	// failure, a timeout, a refused certificate or redirect).
	Status int
	// Duration runs from sending the request to the end of reading its
	// answer (the wait for a concurrency slot not included).
	Duration time.Duration
	Attempt  int   // 0 for the first attempt, n for the n-th retry
	Err      error // nil when the call succeeded; else what the attempt returned
}

// WithRequestObserver calls fn once for every HTTP request when it has
// ended (every attempt, retries included), with its endpoint, status and
// duration; a daemon exports per-endpoint counts and latencies from it. fn
// runs on the request's goroutine before the client goes on, so it must be
// quick and safe for concurrent use.
func WithRequestObserver(fn func(RequestInfo)) Option {
	return func(c *Client) { c.observe = fn }
}

// WithTransportWrapper wraps the client's HTTP transport, the one New builds
// with Config's TLS settings (the pinned fingerprint, CA file or insecure)
// or the one WithHTTPClient handed in: wrap receives it and returns the
// round tripper requests go through, e.g. one that instruments them. The TLS
// checks stay those of the wrapped transport.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *Client) { c.wrap = wrap }
}

// WithHTTPClient replaces the HTTP client, and with it the TLS settings from
// Config (tests hand in httptest's client). Config.Timeout still bounds each
// request. To instrument the client's own transport and keep Config's TLS
// settings, use WithTransportWrapper instead.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithTaskPoll sets WaitTask's poll intervals: the first is min, each
// later one a third of the time waited so far, within min and max. The
// defaults are 500 ms and 5 s (a 1-second task costs 3 status calls, a
// 2-second one 5, and a wait ends at most a third of its task's time
// after the task, up to max).
func WithTaskPoll(min, max time.Duration) Option {
	return func(c *Client) {
		if min > 0 {
			c.pollMin = min
		}
		if max >= c.pollMin {
			c.pollMax = max
		}
	}
}

// WithRetryBackoff sets the delay before the first retry of a GET; it
// doubles (with jitter) for each further one. The default is 200 ms.
func WithRetryBackoff(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.backoff = d
		}
	}
}

// New returns a client for cfg. It validates cfg and builds the TLS
// settings: a pinned leaf certificate (Fingerprint), a CA file, the system
// roots, or, only when cfg.Insecure is set, no verification.
//
// Turning verification off is logged as a warning, and the warning does not
// depend on the caller passing a logger: without WithLogger, the client logs
// at warn level to stderr, so every program that sets insecure says so. A
// client given its own HTTP client (WithHTTPClient) does not use Config's TLS
// settings and does not warn.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(strings.TrimRight(cfg.URL, "/"))
	u.Path = strings.TrimSuffix(u.Path, apiPrefix) + apiPrefix
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:     u.String(),
		auth:     "PVEAPIToken=" + cfg.TokenID + "=" + cfg.TokenSecret.Reveal(),
		log:      slog.New(slog.NewTextHandler(defaultLogOutput, &slog.HandlerOptions{Level: slog.LevelWarn})),
		timeout:  cfg.Timeout,
		retries:  cfg.Retries,
		backoff:  200 * time.Millisecond,
		pollMin:  defaultPollMin,
		pollMax:  defaultPollMax,
		now:      time.Now,
		sleep:    sleepCtx,
		insecure: cfg.Insecure,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	n := cfg.MaxConcurrency
	if n == 0 {
		n = DefaultMaxConcurrency
	}
	c.sem = make(chan struct{}, n)
	c.perNode = cfg.NodeConcurrency
	if c.perNode == 0 {
		c.perNode = DefaultNodeConcurrency
	}
	c.nodeSem = map[string]chan struct{}{}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		tlsConf, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		if cfg.Insecure {
			c.log.Warn("pve: TLS certificate verification is off (insecure: true); anyone on the path can read the token", "url", u.Host)
		}
		c.http = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tlsConf,
			TLSHandshakeTimeout:   10 * time.Second,
			IdleConnTimeout:       idleConnTimeout,
			MaxIdleConnsPerHost:   n,
			ExpectContinueTimeout: time.Second,
		}}
	}
	// PVE never redirects an API call. Go follows redirects and keeps the
	// Authorization header when the target has the same host name, also from
	// https to plain http, so a redirect is refused before anything is sent
	// to its target; this holds for a client from WithHTTPClient too (a copy,
	// the caller's own is left as it was).
	h := *c.http
	h.CheckRedirect = refuseRedirect
	if c.wrap != nil {
		rt := h.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		if h.Transport = c.wrap(rt); h.Transport == nil {
			return nil, errors.New("WithTransportWrapper: the wrapper returned no round tripper")
		}
	}
	c.http = &h
	return c, nil
}

// NodeConcurrency is the client's bound on requests in flight to one node
// (Config.NodeConcurrency, default DefaultNodeConcurrency).
func (c *Client) NodeConcurrency() int { return c.perNode }

// nodeSlots returns the per-node bound of a call under /nodes/{node}/ (or
// /nodes/{node}), nil for a call that names no node.
func (c *Client) nodeSlots(k call) chan struct{} {
	if !strings.HasPrefix(k.tmpl, "/nodes/{node}") || len(k.args) == 0 {
		return nil
	}
	node := fmt.Sprint(k.args[0])
	c.nodeMu.Lock()
	defer c.nodeMu.Unlock()
	ns := c.nodeSem[node]
	if ns == nil {
		ns = make(chan struct{}, c.perNode)
		c.nodeSem[node] = ns
	}
	return ns
}

// errRedirect is the cause of a request whose answer was a redirect.
var errRedirect = errors.New("refused to follow a redirect: PVE never redirects API calls (is the URL the API's own, https://host:8006?)")

// refuseRedirect is the HTTP client's CheckRedirect. The error names the
// answer's status but not its Location, which the server chose and which may
// carry anything, the header it was sent included.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	if req.Response != nil {
		return fmt.Errorf("%s: %w", req.Response.Status, errRedirect)
	}
	return errRedirect
}

// call is one API call: method, the endpoint's path template and its
// arguments, parameters, and where to decode "data".
type call struct {
	method string
	tmpl   string // e.g. "/nodes/{node}/lxc/{vmid}/config"
	args   []any  // one per {placeholder}, in order
	params url.Values
	out    any // pointer for "data"; nil to ignore it
	total  *int
}

// path fills tmpl's placeholders with the escaped args.
func (k *call) path() (string, error) {
	var b strings.Builder
	rest, args := k.tmpl, k.args
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 || len(args) == 0 {
			return "", fmt.Errorf("path template %s: bad placeholders", k.tmpl)
		}
		s := fmt.Sprint(args[0])
		if s == "" {
			return "", fmt.Errorf("%s %s: %s is empty", k.method, k.tmpl, rest[i:i+j+1])
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(s))
		rest, args = rest[i+j+1:], args[1:]
	}
	if len(args) != 0 {
		return "", fmt.Errorf("path template %s: too many arguments", k.tmpl)
	}
	return b.String(), nil
}

// do performs k: it waits for a concurrency slot, sends the request, retries
// an idempotent GET after a transient failure, and decodes the envelope.
func (c *Client) do(ctx context.Context, k call) error {
	p, err := k.path()
	if err != nil {
		return err
	}
	idempotent := k.method == http.MethodGet
	for attempt := 0; ; attempt++ {
		retry, err := c.attempt(ctx, k, p, attempt)
		if err == nil {
			return nil
		}
		if !idempotent || !retry || attempt >= c.retries {
			return err
		}
		if ctx.Err() != nil {
			if errors.Is(err, ctx.Err()) {
				return err
			}
			// The context ended while the attempt failed: say both.
			return fmt.Errorf("%w; then, waiting to retry: %w", err, ctx.Err())
		}
		d := c.backoff << attempt
		d = d/2 + rand.N(d/2+1) // jitter: [d/2, d]
		c.log.Debug("pve: retrying", "method", k.method, "path", p, "attempt", attempt+1, "after", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w; then, waiting to retry: %w", err, ctx.Err())
		case <-t.C:
		}
	}
}

// attempt sends one request. retry says whether the failure was transient.
// It holds a place of its node's bound first (nodeSlots) and then one of
// the total, so a request queued for a busy node keeps no other node's
// request waiting.
func (c *Client) attempt(ctx context.Context, k call, p string, n int) (retry bool, err error) {
	if ns := c.nodeSlots(k); ns != nil {
		select {
		case ns <- struct{}{}:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		defer func() { <-ns }()
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-c.sem }()
	if c.observe == nil {
		retry, _, err = c.send(ctx, k, p, n)
		return retry, err
	}
	start := time.Now()
	retry, status, err := c.send(ctx, k, p, n)
	c.observe(RequestInfo{Method: k.method, Endpoint: k.tmpl, Status: status, Duration: time.Since(start), Attempt: n, Err: err})
	return retry, err
}

// send sends one request and reads its answer; status is the answer's HTTP
// status (0 when none came).
func (c *Client) send(ctx context.Context, k call, p string, n int) (retry bool, status int, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := c.base + p
	var body io.Reader
	switch k.method {
	case http.MethodGet, http.MethodDelete:
		// PVE refuses a body on DELETE ("501 Unexpected content for method
		// 'DELETE'"), so its parameters go in the query too.
		if q := k.params.Encode(); q != "" {
			target += "?" + q
		}
	default:
		body = strings.NewReader(k.params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, k.method, target, body)
	if err != nil {
		return false, 0, fmt.Errorf("%s %s: %w", k.method, p, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.hook != nil {
		c.hook(k.method, k.tmpl)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("pve: request failed", "method", k.method, "path", p, "attempt", n, "err", err)
		// url.Error names the URL, which carries no credentials.
		return isTransient(err), 0, fmt.Errorf("%s %s: %w", k.method, p, unwrapURLError(err))
	}
	defer func() {
		// Read what is left so the connection can carry the next request.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	c.log.Debug("pve: request", "method", k.method, "path", p, "status", resp.StatusCode, "attempt", n, "duration", time.Since(start))
	if err := CheckResponse(resp); err != nil {
		return isTransientStatus(resp.StatusCode), resp.StatusCode, err
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Total *int            `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		// A body cut short is a transport failure, not an answer.
		return true, resp.StatusCode, fmt.Errorf("%s %s: decode response: %w", k.method, p, err)
	}
	if k.total != nil && env.Total != nil {
		*k.total = *env.Total
	}
	if k.out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := decodeData(env.Data, k.out); err != nil {
			return false, resp.StatusCode, fmt.Errorf("%s %s: decode data: %w", k.method, p, err)
		}
	}
	return false, resp.StatusCode, nil
}

// decodeData decodes data, a JSON value the decoder has checked, into out.
// An out that decodes itself (PendingList: one per container in a plan) is
// handed data directly: json.Unmarshal would scan it twice more, to check
// it and to find its end, before passing it on unchanged.
func decodeData(data json.RawMessage, out any) error {
	if u, ok := out.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(data)
	}
	return json.Unmarshal(data, out)
}

// unwrapURLError drops *url.Error's "Get "https://..."" prefix (the caller's
// message already names method and path).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isTransientStatus: gateway errors, and pveproxy's pseudo-statuses for a
// failed proxy hop to another node (595 connect, 596 TLS/request/timeouts,
// 597 body, 599 other; pve-semantics.md §9). A 500 is PVE's answer ("CT is
// locked", a failed die) and is never retried.
func isTransientStatus(code int) bool {
	switch code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 595, 596, 597, 599:
		return true
	}
	return false
}

// isCertError: the server's certificate was refused; trying again cannot help.
func isCertError(err error) bool {
	var (
		ve *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.Is(err, ErrFingerprintMismatch) || errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// isTransient: network failures where the server gave no answer.
func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || isCertError(err) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // the per-request timeout; the caller's own deadline stops the loop
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
