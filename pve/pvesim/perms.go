package pvesim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// Permissions as pve-access-control computes them (src/PVE/AccessControl.pm
// roles, $privgroups, create_roles; src/PVE/RPCEnvironment.pm permissions,
// $compile_acl_path, check, check_any) and pve-container checks them per
// config key (src/PVE/LXC.pm check_ct_modify_config_perm). Only API tokens
// authenticate, so nobody is root@pam: every "eq 'root@pam'" shortcut fails,
// as it does on PVE for tokens, root@pam!x included.

// privGroups is $privgroups: per category the root, admin, user and audit
// privileges, from which the built-in roles are made.
var privGroups = map[string][4][]string{
	"VM": {nil,
		{"VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType", "VM.Config.Options", "VM.Allocate", "VM.Clone", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback"},
		{"VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.PowerMgmt"},
		{"VM.Audit", "VM.GuestAgent.Audit"}},
	"Sys": {{"Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"},
		{"Sys.Console", "Sys.Syslog"},
		nil,
		{"Sys.Audit"}},
	"Datastore": {nil,
		{"Datastore.Allocate", "Datastore.AllocateTemplate"},
		{"Datastore.AllocateSpace"},
		{"Datastore.Audit"}},
	"SDN":     {nil, {"SDN.Allocate", "SDN.Audit"}, {"SDN.Use"}, {"SDN.Audit"}},
	"User":    {{"Realm.Allocate"}, {"User.Modify", "Group.Allocate", "Realm.AllocateUser"}, nil, nil},
	"Pool":    {nil, {"Pool.Allocate"}, {"Pool.Audit"}, {"Pool.Audit"}},
	"Mapping": {nil, {"Mapping.Modify"}, {"Mapping.Use"}, {"Mapping.Audit"}},
}

// roles are the built-in roles (create_roles).
var roles = func() map[string]map[string]bool {
	r := map[string]map[string]bool{"NoAccess": {}, "Administrator": {"Permissions.Modify": true}, "PVEAdmin": {}, "PVEAuditor": {}}
	add := func(role, priv string) {
		if r[role] == nil {
			r[role] = map[string]bool{}
		}
		r[role][priv] = true
	}
	for cat, g := range privGroups {
		for _, level := range g {
			for _, p := range level {
				add("Administrator", p)
			}
		}
		for _, p := range append(append(append([]string{}, g[1]...), g[2]...), g[3]...) {
			add("PVE"+cat+"Admin", p)
			add("PVEAdmin", p)
		}
		if len(g[2]) > 0 {
			for _, p := range append(append([]string{}, g[2]...), g[3]...) {
				add("PVE"+cat+"User", p)
			}
		}
		for _, p := range g[3] {
			add("PVEAuditor", p)
		}
	}
	delete(r["PVEAdmin"], "Mapping.Modify")
	r["PVETemplateUser"] = map[string]bool{"VM.Clone": true, "VM.Audit": true}
	return r
}()

func checkACL(acl []ACL) error {
	for _, a := range acl {
		if !strings.HasPrefix(a.Path, "/") {
			return fmt.Errorf("acl path %q does not start with /", a.Path)
		}
		if (a.Role == "") == (len(a.Privileges) == 0) {
			return fmt.Errorf("acl %s: give either a role or privileges", a.Path)
		}
		if a.Role != "" && roles[a.Role] == nil {
			return fmt.Errorf("acl %s: unknown role %q", a.Path, a.Role)
		}
		for _, p := range a.Privileges {
			if !roles["Administrator"][p] {
				return fmt.Errorf("acl %s: unknown privilege %q", a.Path, p)
			}
		}
	}
	return nil
}

// aclPrivs resolves ACL entries on path as AccessControl::roles does: walk
// from / to path; at each level the entries that apply (propagating ones,
// or any at the path itself) replace what came before. It returns each
// privilege with its propagate flag.
func aclPrivs(acl []ACL, p string) map[string]bool {
	var held map[string]bool
	levels := aclLevels(p)
	for i, level := range levels {
		final := i == len(levels)-1
		var found map[string]bool
		for _, a := range acl {
			if normalizePath(a.Path) != level {
				continue
			}
			prop := a.Propagate == nil || *a.Propagate
			if !final && !prop {
				continue
			}
			if found == nil {
				found = map[string]bool{}
			}
			privs := a.Privileges
			if a.Role != "" {
				privs = nil
				for pr := range roles[a.Role] {
					privs = append(privs, pr)
				}
			}
			for _, pr := range privs {
				found[pr] = found[pr] || prop
			}
		}
		if found != nil {
			held = found
		}
	}
	if held == nil {
		held = map[string]bool{}
	}
	return held
}

// aclLevels returns "/", "/vms", "/vms/100" for "/vms/100".
func aclLevels(p string) []string {
	p = normalizePath(p)
	out := []string{"/"}
	if p == "/" {
		return out
	}
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		out = append(out, cur)
	}
	return out
}

var slashesRE = regexp.MustCompile(`/+`)

func normalizePath(p string) string {
	p = slashesRE.ReplaceAllString("/"+p, "/")
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// permissions returns the token's privileges on path with their propagate
// flags: the user's for privsep=0, else the intersection of the token's own
// and the user's (a privilege must be in both; propagate flags are ANDed).
//
// root@pam, the user, has every privilege everywhere (permissions() returns
// early for it), so its non-privsep tokens have all privileges too, and its
// privsep tokens exactly their own ACL (no intersection). Its tokens are
// still not root@pam for the root-only checks.
func (s *Sim) permissions(t *simToken, p string) map[string]bool {
	key := t.user + "!" + t.name + " " + p
	if m, ok := s.permCache[key]; ok {
		return m
	}
	m := s.computePermissions(t, p)
	if t.name != "" { // a registered token; ACLs never change after New
		s.permCache[key] = m
	}
	return m
}

func (s *Sim) computePermissions(t *simToken, p string) map[string]bool {
	own := aclPrivs(t.acl, p)
	if t.user == "root@pam" {
		if t.privsep {
			return own
		}
		all := map[string]bool{}
		for pr := range roles["Administrator"] {
			all[pr] = true
		}
		return all
	}
	u := s.users[t.user]
	var user map[string]bool
	if u != nil {
		user = aclPrivs(u.acl, p)
	} else {
		user = map[string]bool{}
	}
	if !t.privsep {
		return user
	}
	out := map[string]bool{}
	for pr, prop := range own {
		if uprop, ok := user[pr]; ok {
			out[pr] = prop && uprop
		}
	}
	return out
}

// check is RPCEnvironment::check: every privilege is needed.
func (s *Sim) check(r *request, p string, privs ...string) error {
	have := s.permissions(r.token, p)
	for _, pr := range privs {
		if _, ok := have[pr]; !ok {
			return permError(p + ", " + pr)
		}
	}
	return nil
}

// checkAny is RPCEnvironment::check_any: one privilege is enough.
func (s *Sim) checkAny(r *request, p string, privs ...string) error {
	if s.hasAny(r.token, p, privs...) {
		return nil
	}
	return permError(p + ", " + strings.Join(privs, "|"))
}

func (s *Sim) hasAny(t *simToken, p string, privs ...string) bool {
	have := s.permissions(t, p)
	for _, pr := range privs {
		if _, ok := have[pr]; ok {
			return true
		}
	}
	return false
}

// vmAuditor returns whether t has VM.Audit on /vms/<vmid>, the answer of
// hasAny(t, vmPath(vmid), "VM.Audit"), for a listing that asks it of
// every guest. computePermissions reads only the ACL entries of the token
// and its user, and aclPrivs only those at the path's levels: "/",
// "/vms" and "/vms/<vmid>". When no entry of either is below /vms, every
// /vms/<vmid> sees the same entries at the same levels (the final level
// has none, so non-propagating entries at /vms count nowhere below it),
// and the answer is one for all vmids: it is computed once.
func (s *Sim) vmAuditor(t *simToken) func(vmid int) bool {
	perGuest := func(vmid int) bool { return s.hasAny(t, vmPath(vmid), "VM.Audit") }
	below := func(acl []ACL) bool {
		for _, a := range acl {
			if strings.HasPrefix(normalizePath(a.Path), "/vms/") {
				return true
			}
		}
		return false
	}
	if t.name == "" || below(t.acl) {
		return perGuest
	}
	if u := s.users[t.user]; u != nil && below(u.acl) {
		return perGuest
	}
	var once, audit bool
	return func(vmid int) bool {
		if !once {
			once, audit = true, perGuest(vmid)
		}
		return audit
	}
}

// checkCTModifyConfig is check_ct_modify_config_perm for the keys of a
// PUT config or create: the privilege each key needs, and the keys only
// root@pam may touch. A token is never root@pam.
func (s *Sim) checkCTModifyConfig(r *request, node string, vmid int, old func(string) (string, bool), unprivileged bool, keys []string, deleting bool) error {
	if r.root {
		return nil // "return 1 if $authuser eq 'root@pam'"
	}
	vmPath := vmPath(vmid)
	for _, key := range keys {
		newValue := r.params[key]
		switch {
		case key == "cores" || key == "cpuunits" || key == "cpulimit":
			if err := s.check(r, vmPath, "VM.Config.CPU"); err != nil {
				return err
			}
		case key == "rootfs" || isIndexed(key, "mp"):
			if err := s.check(r, vmPath, "VM.Config.Disk"); err != nil {
				return err
			}
			if deleting {
				continue
			}
			if err := s.checkMountPerm(r, node, vmid, key, newValue); err != nil {
				return err
			}
		case key == "memory" || key == "swap":
			if err := s.check(r, vmPath, "VM.Config.Memory"); err != nil {
				return err
			}
		case isIndexed(key, "net"):
			if err := s.check(r, vmPath, "VM.Config.Network"); err != nil {
				return err
			}
			if !deleting {
				if err := s.checkSDN(r, newValue); err != nil {
					return err
				}
			}
			if v, ok := old(key); ok {
				if err := s.checkSDN(r, v); err != nil {
					return err
				}
			}
		case key == "nameserver" || key == "searchdomain" || key == "hostname":
			if err := s.check(r, vmPath, "VM.Config.Network"); err != nil {
				return err
			}
		case isIndexed(key, "dev"):
			return permError("configuring device passthrough is only allowed for root@pam")
		case key == "hookscript":
			return permError("changing the hookscript is only allowed for root@pam")
		case key == "features":
			if !unprivileged {
				return permError("changing feature flags for privileged container is only allowed for root@pam")
			}
			oldValue, _ := old("features")
			nesting, other := featuresChange(oldValue, newValue, deleting)
			if other {
				return permError("changing feature flags (except nesting) is only allowed for root@pam")
			}
			if nesting {
				if err := s.check(r, vmPath, "VM.Allocate"); err != nil {
					return err
				}
			}
		default: // tags too: GuestHelpers assert_tag_permissions needs VM.Config.Options
			if err := s.check(r, vmPath, "VM.Config.Options"); err != nil {
				return err
			}
		}
	}
	return nil
}

func isIndexed(key, prefix string) bool {
	_, ok := indexOf(key, prefix)
	return ok
}

// checkMountPerm checks a new rootfs/mpN value: bind and device mounts are
// root only; a new volume needs Datastore.AllocateSpace on its storage; an
// existing volume needs check_volume_access.
func (s *Sim) checkMountPerm(r *request, node string, vmid int, key, value string) error {
	vol, _, err := mountVolume(key, value)
	if err != nil {
		return nil // validation already refused it
	}
	switch format.Classify(vol) {
	case format.Device:
		return permError("mount point type device is only allowed for root@pam")
	case format.Bind:
		return permError("mount point type bind is only allowed for root@pam")
	}
	sid, name, _ := strings.Cut(vol, ":")
	if format.IsNewVolume(vol) {
		return s.check(r, "/storage/"+sid, "Datastore.AllocateSpace")
	}
	return s.checkVolumeAccess(r, vmid, vol, volumeOwner(name), false)
}

// checkVolumeAccess is pve-storage Storage.pm check_volume_access for an
// image/rootdir volume or (backup) a backup archive of owner (0: a name
// with no vmid): Datastore.Allocate on the storage, or vmid owns it, or
// for a backup Datastore.AllocateSpace + VM.Backup on the owner, for an
// image Datastore.Audit + VM.Config.Disk on the owner; a volume without
// owner otherwise dies "missing privileges to access <volid>", a 500.
func (s *Sim) checkVolumeAccess(r *request, vmid int, volid string, owner int, backup bool) error {
	sid, _, _ := strings.Cut(volid, ":")
	if s.hasAny(r.token, "/storage/"+sid, "Datastore.Allocate") {
		return nil
	}
	switch {
	case owner != 0 && owner == vmid:
		return nil
	case owner != 0 && backup:
		if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
			return err
		}
		return s.check(r, vmPath(owner), "VM.Backup")
	case owner != 0:
		if err := s.check(r, "/storage/"+sid, "Datastore.Audit"); err != nil {
			return err
		}
		return s.check(r, vmPath(owner), "VM.Config.Disk")
	}
	return errorf("missing privileges to access %s", volid)
}

// checkSDN checks SDN.Use on the bridge of a netN value
// (/sdn/zones/localnetwork/<bridge>[/<vlan>] for a plain bridge).
func (s *Sim) checkSDN(r *request, value string) error {
	n, err := format.ParseNet(value)
	if err != nil || n.Bridge == "" {
		return nil
	}
	p := "/sdn/zones/localnetwork/" + n.Bridge
	if n.Tag != nil {
		p += fmt.Sprintf("/%d", *n.Tag)
	}
	return s.check(r, p, "SDN.Use")
}

// featuresChange compares feature flags as check_ct_modify_config_perm
// does: with old flags, flag by flag (a nesting change, or any other
// change); without old flags (or on delete), nesting alone counts as a
// nesting change and anything else as another change.
func featuresChange(oldValue, newValue string, deleting bool) (nesting, other bool) {
	onlyNesting := func(f map[string]string) (bool, bool) {
		_, hasNesting := f["nesting"]
		return len(f) == 1 && hasNesting, len(f) > 0
	}
	if deleting {
		n, any := onlyNesting(featureFlags(oldValue))
		return n, any && !n
	}
	nf := featureFlags(newValue)
	if oldValue == "" {
		n, any := onlyNesting(nf)
		return n, any && !n
	}
	of := featureFlags(oldValue)
	keys := map[string]bool{}
	for k := range of {
		keys[k] = true
	}
	for k := range nf {
		keys[k] = true
	}
	for k := range keys {
		if of[k] == nf[k] {
			continue
		}
		if k == "nesting" {
			nesting = true
			continue
		}
		return nesting, true
	}
	return nesting, false
}

// featureFlags is parse_features: the flags of a features property string,
// booleans normalised to 1/0 as parse_property_string does.
func featureFlags(v string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			continue
		}
		if k != "mount" {
			switch strings.ToLower(val) {
			case "1", "on", "yes", "true":
				val = "1"
			case "0", "off", "no", "false":
				val = "0"
			}
		}
		out[k] = val
	}
	return out
}

// accessPermissions is GET /access/permissions: the caller's privileges
// on path, or on every path its ACLs name plus PVE's standard paths.
func (s *Sim) accessPermissions(r *request) (any, error) {
	target := r.token
	if uid := r.params["userid"]; uid != "" && uid != r.authID {
		if err := s.check(r, "/access", "Sys.Audit"); err != nil {
			return nil, err
		}
		t := s.tokens[uid]
		if t == nil {
			// A plain user: evaluate as a non-privsep token of that user.
			if s.users[uid] == nil {
				return map[string]any{}, nil
			}
			t = &simToken{user: uid, privsep: false}
		}
		target = t
	}
	var paths []string
	if p := r.params["path"]; p != "" {
		paths = []string{p}
	} else {
		seen := map[string]bool{}
		for _, p := range []string{"/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping"} {
			seen[p] = true
		}
		if u := s.users[target.user]; u != nil {
			for _, a := range u.acl {
				seen[normalizePath(a.Path)] = true
			}
		}
		for _, a := range target.acl {
			seen[normalizePath(a.Path)] = true
		}
		for p := range seen {
			paths = append(paths, p)
		}
		sort.Strings(paths)
	}
	out := map[string]any{}
	for _, p := range paths {
		privs := s.permissions(target, p)
		if len(privs) == 0 && r.params["path"] == "" {
			continue
		}
		m := map[string]int{}
		for pr, prop := range privs {
			m[pr] = boolInt(prop)
		}
		out[p] = m
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
