package pvesim

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/ctconf"
)

// The wire format (pve-http-server src/PVE/APIServer/AnyEvent.pm,
// src/PVE/APIServer/Formatter/Standard.pm; pve-manager PVE/HTTPServer.pm
// rest_handler): every answer is {"data": ...}; an error is
// {"data":null,"message":"<msg>\n"} (plus "errors" for a 400) with the
// first line of the message as the HTTP reason phrase. Before
// libpve-http-server-perl 5.2.0 the body had no "message"
// (WithLegacyErrors).

const apiPrefix = "/api2/json"

// httpError is an API failure with PVE's status and message.
type httpError struct {
	status int
	msg    string            // without the trailing newline
	errors map[string]string // 400 only
}

func (e *httpError) Error() string { return e.msg }

// errorf is a plain die: HTTP 500.
func errorf(format string, args ...any) *httpError {
	return &httpError{status: http.StatusInternalServerError, msg: fmt.Sprintf(format, args...)}
}

// paramError is raise_param_exc: HTTP 400 with the per-parameter messages.
func paramError(errs map[string]string) *httpError {
	return &httpError{status: http.StatusBadRequest, msg: "Parameter verification failed.", errors: errs}
}

// permError is raise_perm_exc: HTTP 403 "Permission check failed (...)".
func permError(text string) *httpError {
	return &httpError{status: http.StatusForbidden, msg: "Permission check failed (" + text + ")"}
}

// asHTTPError maps the errors of the config model to PVE's answers.
func asHTTPError(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var pe *ctconf.ParamError
	if errors.As(err, &pe) {
		return paramError(pe.Errors)
	}
	return &httpError{status: http.StatusInternalServerError, msg: strings.TrimSuffix(err.Error(), "\n")}
}

// request is one API call after routing and authentication.
type request struct {
	params map[string]string // query or body, plus the path variables
	authID string            // the token id, user@realm!name
	token  *simToken
	// root is root@pam itself, as pct runs (Sim.Pct): the root-only
	// checks of check_ct_modify_config_perm pass.
	root bool
}

func (r *request) vmid() int { n, _ := strconv.Atoi(r.params["vmid"]); return n }

func (r *request) has(name string) bool { _, ok := r.params[name]; return ok }

func (r *request) boolParam(name string) bool { return r.params[name] == "1" }

// route is one API endpoint.
type route struct {
	method string
	tmpl   string // path template below /api2/json
	segs   []string
	params []param
	// perm is the method's schema permissions, checked before the
	// parameters are validated.
	perm   perm
	handle func(s *Sim, r *request) (any, error)
}

// perm is a method's "permissions" as check_api2_permissions reads them
// (pve-access-control src/PVE/RPCEnvironment.pm check_api2_permissions,
// exec_api2_perm_check): user "all" lets every authenticated caller reach
// the handler, which checks the rest; "world" lets in even callers without
// credentials; otherwise check is ['perm', path, privs(, any => 1)] with
// {var} in path taken from the request's parameters as sent (not yet
// validated). A route without either is root@pam's only: "user !=
// root@pam".
type perm struct {
	user  string // "all" or "world"
	path  string
	privs []string
	any   bool
	// userGroup is ['userid-group', privs]: any of privs on /access/groups
	// (the simulator has no groups, so a user's own groups add nothing).
	userGroup bool
}

var permAll = perm{user: "all"}

// vmPerm is ['perm', '/vms/{vmid}', privs] (any: any of them).
func vmPerm(any bool, privs ...string) perm {
	return perm{path: "/vms/{vmid}", privs: privs, any: any}
}

// checkRoute is check_api2_permissions for the route. The caller holds
// s.mu.
func (s *Sim) checkRoute(rt *route, r *request) error {
	p := rt.perm
	switch {
	case p.user == "all" || p.user == "world":
		return nil
	case p.userGroup:
		return s.checkAny(r, "/access/groups", p.privs...)
	case p.path == "":
		return permError("user != root@pam")
	}
	path := p.path
	for k, v := range r.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	if p.any {
		return s.checkAny(r, path, p.privs...)
	}
	return s.check(r, path, p.privs...)
}

func (rt *route) key() string { return rt.method + " " + rt.tmpl }

// match returns the path variables when p matches the template.
func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, t := range rt.segs {
		if strings.HasPrefix(t, "{") {
			if segs[i] == "" {
				return nil, false
			}
			vars[strings.Trim(t, "{}")] = segs[i]
		} else if t != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// findRoute returns the route for method and path (below /api2/json) with
// its path variables, or nil.
func findRoute(method, p string) (*route, map[string]string) {
	segs := splitPath(p)
	for _, rt := range routes {
		if rt.method != method {
			continue
		}
		if vars, ok := rt.match(segs); ok {
			return rt, vars
		}
	}
	return nil, nil
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		s.writeError(w, &httpError{status: http.StatusNotImplemented, msg: "Method '" + r.Method + " " + r.URL.Path + "' not implemented"})
		return
	}
	rt, vars := findRoute(r.Method, p) // r.URL.Path is already unescaped

	s.mu.Lock()
	key := r.Method + " ?"
	if rt != nil {
		key = rt.key()
	}
	s.counts[key]++
	lat := s.latency
	var jitter time.Duration
	if lat.Jitter > 0 {
		jitter = time.Duration(s.rnd.Int64N(int64(lat.Jitter) + 1))
	}
	fault := s.pickFault(r.Method, p, rt)
	s.mu.Unlock()

	pool := s.poolFor(vars)
	if !pool.acquire(r.Context(), s.closing) {
		return // the client gave up waiting, or the simulator closed
	}
	defer pool.release()
	s.wait(r.Context(), lat.Fixed+jitter)
	if fault != nil {
		s.applyFault(w, r, fault)
		return
	}

	tok, authErr := s.authenticate(r)
	// pve-manager PVE/HTTPServer.pm auth_handler: GET /access/domains
	// needs no authentication; a token sent with it is not verified.
	if rt != nil && rt.perm.user == "world" {
		tok, authErr = &simToken{}, nil
	}
	if authErr != nil {
		s.wait(r.Context(), s.authDelay)
		s.writeUnauthorized(w, authErr.msg)
		return
	}
	if rt == nil {
		s.writeError(w, &httpError{status: http.StatusNotImplemented, msg: "Method '" + r.Method + " " + p + "' not implemented"})
		return
	}
	params, herr := readParams(r)
	if herr != nil {
		s.writeError(w, herr)
		return
	}
	for k, v := range vars {
		params[k] = v
	}
	req := &request{params: params, authID: tok.user + "!" + tok.name, token: tok}

	// pve-manager PVE/HTTPServer.pm rest_handler: the method's permissions
	// are checked before the handler validates the parameters, so a caller
	// without rights gets 403 even for a request that is also invalid.
	s.mu.Lock()
	permErr := s.checkRoute(rt, req)
	s.mu.Unlock()
	if permErr != nil {
		s.writeError(w, asHTTPError(permErr))
		return
	}
	// rest_handler resolves proxyto => 'node' next: a node the cluster
	// does not know is looked up as a host name (pve-cluster
	// Cluster.pm remote_node_ip, pve-common Network.pm
	// get_ip_from_hostname). Only the snapshot index has no proxyto.
	if node, ok := vars["node"]; ok && s.node[node] == nil && rt.tmpl != "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}" {
		s.writeError(w, errorf("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", node, node))
		return
	}
	if errs := validate(rt.params, params); errs != nil {
		s.writeError(w, paramError(errs))
		return
	}

	s.mu.Lock()
	settled := s.settle()
	data, err := rt.handle(s, req)
	if settled || err == nil && r.Method != http.MethodGet {
		s.persist()
	}
	s.mu.Unlock()
	if err != nil {
		s.writeError(w, asHTTPError(err))
		return
	}
	s.writeData(w, data)
}

// readParams reads the query string and, for POST and PUT, the body (form
// or JSON). A DELETE with a body is refused as pveproxy refuses it.
func readParams(r *http.Request) (map[string]string, *httpError) {
	params := map[string]string{}
	for k, vs := range r.URL.Query() {
		params[k] = vs[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errorf("unable to read request body: %v", err)
	}
	if len(body) == 0 {
		return params, nil
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut:
	case http.MethodDelete:
		return nil, &httpError{status: http.StatusNotImplemented, msg: "Unexpected content for method 'DELETE'"}
	default:
		return params, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, &httpError{status: http.StatusBadRequest, msg: "unable to parse JSON body: " + err.Error()}
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				params[k] = x
			case bool:
				params[k] = map[bool]string{true: "1", false: "0"}[x]
			case float64:
				params[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case nil:
			default:
				b, _ := json.Marshal(x)
				params[k] = string(b)
			}
		}
		return params, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &httpError{status: http.StatusBadRequest, msg: "unable to parse form body: " + err.Error()}
	}
	for k, vs := range form {
		params[k] = vs[0]
	}
	return params, nil
}

// authenticate checks the API token header as pve-access-control's
// verify_token does. Only API tokens are modelled; a request without one is
// "No ticket" as PVE says without a ticket cookie. A refused token is
// "Authentication failed!" (pve-manager 26c10a2, Jan 2026); with legacy
// errors, the raw reason older servers showed.
func (s *Sim) authenticate(r *http.Request) (*simToken, *httpError) {
	h := r.Header.Get("Authorization")
	v, ok := strings.CutPrefix(h, "PVEAPIToken=")
	if !ok {
		v, ok = strings.CutPrefix(h, "PVEAPIToken ")
	}
	if !ok {
		return nil, &httpError{status: http.StatusUnauthorized, msg: "No ticket"}
	}
	fail := func(raw string) *httpError {
		if s.legacyErrors {
			return &httpError{status: http.StatusUnauthorized, msg: raw}
		}
		return &httpError{status: http.StatusUnauthorized, msg: "Authentication failed!"}
	}
	v = strings.TrimSpace(v)
	i := strings.LastIndexByte(v, '=') // /^(.*)=(.*)$/ is greedy
	if i < 0 {
		return nil, fail("no tokenid specified")
	}
	id, secret := v[:i], v[i+1:]
	user, name, ok := strings.Cut(id, "!")
	if !ok || !userIDRE.MatchString(user) || !tokenNameRE.MatchString(name) {
		return nil, fail("'" + id + "' is not a valid token ID - not able to split into user and token parts")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, known := s.users[user]; !known && user != "root@pam" {
		return nil, fail("no such user ('" + user + "')")
	}
	t := s.tokens[id]
	if t == nil {
		return nil, fail("no such token '" + name + "' for user '" + user + "'")
	}
	if t.secret != secret {
		return nil, fail("invalid token value!")
	}
	return t, nil
}

// pveHeaders are the headers pveproxy sends with every API answer.
func pveHeaders(h http.Header) {
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Server", "pve-api-daemon/3.0")
}

// withTotal is an answer with rest_handler's "total" beside "data" (the
// result attribute a handler sets; left out when 0, as PVE's "if (my
// $count = ...)" does).
type withTotal struct {
	data  any
	total int
}

func (s *Sim) writeData(w http.ResponseWriter, data any) {
	if raw, ok := data.(rawJSON); ok {
		s.writeBody(w, []byte(`{"data":`), raw, []byte("}"))
		return
	}
	body := map[string]any{"data": data}
	if wt, ok := data.(withTotal); ok {
		body["data"] = wt.data
		if wt.total != 0 {
			body["total"] = wt.total
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.writeError(w, errorf("unable to encode response: %v", err))
		return
	}
	s.writeBody(w, b)
}

// writeBody writes a 200 answer's encoded body, given in parts.
func (s *Sim) writeBody(w http.ResponseWriter, parts ...[]byte) {
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	pveHeaders(w.Header())
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	for _, b := range parts {
		_, _ = w.Write(b)
	}
}

// writeError writes a PVE error: the reason phrase is the first line of the
// message; the body carries "message" unless legacy errors are on.
func (s *Sim) writeError(w http.ResponseWriter, e *httpError) {
	var b bytes.Buffer
	b.WriteString(`{"data":null`)
	if len(e.errors) > 0 {
		eb, _ := json.Marshal(e.errors)
		b.WriteString(`,"errors":`)
		b.Write(eb)
	}
	if !s.legacyErrors {
		mb, _ := json.Marshal(e.msg + "\n")
		b.WriteString(`,"message":`)
		b.Write(mb)
	}
	b.WriteString("}")
	writeRaw(w, e.status, reasonPhrase(e.msg), b.Bytes())
}

// writeUnauthorized answers 401 with an empty body, as pveproxy does.
func (s *Sim) writeUnauthorized(w http.ResponseWriter, reason string) {
	writeRaw(w, http.StatusUnauthorized, reason, nil)
}

func reasonPhrase(msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	line = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, line)
	if line == "" {
		return "error"
	}
	return line
}

// writeRaw writes a response with a custom reason phrase. Go's server
// always prints its own status text, so the connection is taken over
// (and closed after the answer); an in-process ResponseWriter that cannot
// be taken over gets the standard status line and an X-PVE-Reason header.
func writeRaw(w http.ResponseWriter, status int, reason string, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		pveHeaders(w.Header())
		w.Header().Set("X-PVE-Reason", reason)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	h := http.Header{}
	pveHeaders(h)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	fmt.Fprintf(rw, "HTTP/1.1 %03d %s\r\n", status, reason)
	_ = h.Write(rw)
	rw.WriteString("\r\n")
	rw.Write(body)
	_ = rw.Flush()
}

// pickFault returns the first fault rule that hits this request, counting
// the hit. The caller holds s.mu.
func (s *Sim) pickFault(method, p string, rt *route) *Fault {
	for _, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Path != "" {
			if strings.Contains(f.Path, "{") {
				if rt == nil || rt.tmpl != f.Path {
					continue
				}
			} else if ok, _ := path.Match(f.Path, p); !ok {
				continue
			}
		}
		if f.Count > 0 && f.hits >= f.Count {
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && s.rnd.Float64() >= f.Rate {
			continue
		}
		f.hits++
		fault := f.Fault
		return &fault
	}
	return nil
}

func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	switch f.Kind {
	case FaultReset:
		resetConnection(w)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		resetConnection(w)
	default:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		if msg == "" {
			msg = "error " + strconv.Itoa(status)
		}
		s.writeError(w, &httpError{status: status, msg: msg})
	}
}

// resetConnection drops the connection without an answer; on TCP it sends
// a reset (SO_LINGER 0).
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}
