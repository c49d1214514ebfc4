package pve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Mutations are never retried by the client: a POST or PUT that failed after
// it may have reached PVE is reported, not repeated. Those that start a task
// return its UPID; the caller waits with WaitTask, because the HTTP answer
// only says the task started.

// SetConfig changes a container's config. PVE does the work synchronously
// and answers null, which gives (nil, nil); should a server answer with a
// UPID, it is parsed and returned for WaitTask. With ch.Digest set PVE
// refuses the write if the config changed since (ErrStaleDigest).
//
// PVE: PUT /nodes/{node}/lxc/{vmid}/config
func (c *Client) SetConfig(ctx context.Context, node string, vmid int, ch ConfigChange) (*UPID, error) {
	if len(ch.Set) == 0 && len(ch.Delete) == 0 && len(ch.Revert) == 0 {
		return nil, fmt.Errorf("ct %d: set config: no changes", vmid)
	}
	q, err := setParams(ch.Set, "delete", "revert", "digest", "node", "vmid")
	if err != nil {
		return nil, fmt.Errorf("ct %d: set config: %w", vmid, err)
	}
	if len(ch.Delete) > 0 {
		q.Set("delete", strings.Join(ch.Delete, ","))
	}
	if len(ch.Revert) > 0 {
		q.Set("revert", strings.Join(ch.Revert, ","))
	}
	if ch.Digest != "" {
		q.Set("digest", ch.Digest)
	}
	var data string
	k := call{method: http.MethodPut, tmpl: "/nodes/{node}/lxc/{vmid}/config", args: []any{node, vmid}, params: q, out: &data}
	if err := c.do(ctx, k); err != nil {
		return nil, err
	}
	if data == "" {
		return nil, nil
	}
	u, err := k.parseUPID(data)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Resize grows a container volume (disk: rootfs or mpN) to size: "8G", or
// "+2G" to add; a bare number is bytes. PVE refuses to shrink.
//
// PVE: PUT /nodes/{node}/lxc/{vmid}/resize
func (c *Client) Resize(ctx context.Context, node string, vmid int, disk, size, digest string) (UPID, error) {
	q := url.Values{"disk": {disk}, "size": {size}}
	if digest != "" {
		q.Set("digest", digest)
	}
	u, err := c.task(ctx, call{method: http.MethodPut, tmpl: "/nodes/{node}/lxc/{vmid}/resize", args: []any{node, vmid}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// CreateSnapshot snapshots a container (task vzsnapshot).
//
// PVE: POST /nodes/{node}/lxc/{vmid}/snapshot
func (c *Client) CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (UPID, error) {
	q := url.Values{"snapname": {name}}
	if description != "" {
		q.Set("description", description)
	}
	u, err := c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", args: []any{node, vmid}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// UpdateSnapshotDescription replaces the description of a snapshot. PVE
// does it synchronously under the config lock, refuses it while the config
// is locked (check_lock), and answers null (pve-container
// src/PVE/API2/LXC/Snapshot.pm update_snapshot_config). Only the
// description changes; the snapshot's config and volumes do not.
//
// PVE: PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config
func (c *Client) UpdateSnapshotDescription(ctx context.Context, node string, vmid int, name, description string) error {
	q := url.Values{"description": {description}}
	if err := c.do(ctx, call{method: http.MethodPut, tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", args: []any{node, vmid, name}, params: q}); err != nil {
		return err
	}
	return nil
}

// DeleteSnapshot deletes a snapshot (task vzdelsnapshot). force removes the
// config section even when removing a volume snapshot fails.
//
// PVE: DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}
func (c *Client) DeleteSnapshot(ctx context.Context, node string, vmid int, name string, force bool) (UPID, error) {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	u, err := c.task(ctx, call{method: http.MethodDelete, tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}", args: []any{node, vmid, name}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// RollbackSnapshot rolls a container back to a snapshot (task vzrollback).
// A running container is stopped first; start starts it afterwards.
//
// PVE: POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback
func (c *Client) RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (UPID, error) {
	q := url.Values{}
	if start {
		q.Set("start", "1")
	}
	u, err := c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback", args: []any{node, vmid, name}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// Vzdump backs up one container, or a list of them in one task (task
// vzdump; its id is the vmid when there is one guest, else empty).
//
// PVE: POST /nodes/{node}/vzdump
func (c *Client) Vzdump(ctx context.Context, node string, o VzdumpOptions) (UPID, error) {
	ids := o.VMIDs
	if o.VMID != 0 {
		ids = []int{o.VMID}
	}
	if len(ids) == 0 {
		return UPID{}, errors.New("vzdump: no vmid")
	}
	list := make([]string, len(ids))
	for i, v := range ids {
		if v <= 0 {
			return UPID{}, fmt.Errorf("vzdump: vmid %d", v)
		}
		list[i] = strconv.Itoa(v)
	}
	q := url.Values{"vmid": {strings.Join(list, ",")}}
	for k, v := range map[string]string{"storage": o.Storage, "mode": o.Mode, "compress": o.Compress, "prune-backups": o.PruneBackups, "notes-template": o.NotesTemplate} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.Protected {
		q.Set("protected", "1")
	}
	if o.Remove != nil {
		q.Set("remove", boolParam(*o.Remove))
	}
	u, err := c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/vzdump", args: []any{node}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// PruneBackups removes the backups on a storage that the retention
// q.PruneBackups does not keep (task prunebackups, id "[vmid@]storage").
// PVE marks first and removes only what it marked "remove": protected
// backups and archives not named as vzdump names them are never removed.
// q narrows the prune: with VMID 0 and Type "" every guest's backups on the
// storage are pruned, and with PruneBackups "" the storage's own retention
// applies, so callers that mean one container set all three. The
// parameters go in the query: PVE answers a DELETE with a body with 501.
//
// PVE: DELETE /nodes/{node}/storage/{storage}/prunebackups
func (c *Client) PruneBackups(ctx context.Context, node, storage string, q PruneQuery) (UPID, error) {
	u, err := c.task(ctx, call{method: http.MethodDelete, tmpl: "/nodes/{node}/storage/{storage}/prunebackups", args: []any{node, storage}, params: pruneParams(q)})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// Start starts a container (task vzstart).
//
// PVE: POST /nodes/{node}/lxc/{vmid}/status/start
func (c *Client) Start(ctx context.Context, node string, vmid int) (UPID, error) {
	return c.power(ctx, node, vmid, "start")
}

// Stop stops a container at once (task vzstop).
//
// PVE: POST /nodes/{node}/lxc/{vmid}/status/stop
func (c *Client) Stop(ctx context.Context, node string, vmid int) (UPID, error) {
	return c.power(ctx, node, vmid, "stop")
}

// Shutdown shuts a container down cleanly (task vzshutdown).
//
// PVE: POST /nodes/{node}/lxc/{vmid}/status/shutdown
func (c *Client) Shutdown(ctx context.Context, node string, vmid int) (UPID, error) {
	return c.power(ctx, node, vmid, "shutdown")
}

// Reboot reboots a container, which applies its pending changes (task
// vzreboot).
//
// PVE: POST /nodes/{node}/lxc/{vmid}/status/reboot
func (c *Client) Reboot(ctx context.Context, node string, vmid int) (UPID, error) {
	return c.power(ctx, node, vmid, "reboot")
}

func (c *Client) power(ctx context.Context, node string, vmid int, action string) (UPID, error) {
	u, err := c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/lxc/{vmid}/status/" + action, args: []any{node, vmid}})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// Restore restores a container from a backup archive (task vzrestore).
//
// PVE: POST /nodes/{node}/lxc
func (c *Client) Restore(ctx context.Context, node string, o RestoreOptions) (UPID, error) {
	if o.VMID <= 0 || o.Archive == "" {
		return UPID{}, errors.New("restore: vmid and archive are required")
	}
	q, err := setParams(o.Set, "vmid", "ostemplate", "restore", "storage", "force", "unique", "start", "node")
	if err != nil {
		return UPID{}, fmt.Errorf("ct %d: restore: %w", o.VMID, err)
	}
	q.Set("vmid", strconv.Itoa(o.VMID))
	q.Set("ostemplate", o.Archive)
	q.Set("restore", "1")
	if o.Storage != "" {
		q.Set("storage", o.Storage)
	}
	if o.Force {
		q.Set("force", "1")
	}
	if o.Unique {
		q.Set("unique", "1")
	}
	if o.Start {
		q.Set("start", "1")
	}
	u, err := c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/lxc", args: []any{node}, params: q})
	if err != nil {
		return UPID{}, err
	}
	return u, nil
}

// CreateOptions is one POST /nodes/{node}/lxc from an OS template (task
// vzcreate).
type CreateOptions struct {
	VMID     int    // the new container's id
	Template string // OS template volid (PVE's "ostemplate"), e.g. "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"
	Storage  string // default storage for rootfs and bare mount sizes; "" is PVE's "local"
	// Unprivileged nil leaves PVE's default (unprivileged); false asks
	// for a privileged container (Sys.Modify on /).
	Unprivileged  *bool
	Password      Secret // root password; sent, never logged
	SSHPublicKeys string // authorized_keys lines for root
	Start         bool   // start after create
	// Set carries the container options (hostname, memory, rootfs, net0,
	// ...).
	Set map[string]string
}

// Create creates a container from an OS template (task vzcreate). PVE
// refuses a vmid any guest holds ("CT N already exists on node 'x'", "VM
// N ...") and a failed task leaves no container.
//
// PVE: POST /nodes/{node}/lxc
func (c *Client) Create(ctx context.Context, node string, o CreateOptions) (UPID, error) {
	if o.VMID <= 0 || o.Template == "" {
		return UPID{}, errors.New("create: vmid and template are required")
	}
	q, err := setParams(o.Set, "vmid", "ostemplate", "restore", "storage", "force", "unique", "start", "node", "unprivileged", "password", "ssh-public-keys")
	if err != nil {
		return UPID{}, fmt.Errorf("ct %d: create: %w", o.VMID, err)
	}
	q.Set("vmid", strconv.Itoa(o.VMID))
	q.Set("ostemplate", o.Template)
	if o.Storage != "" {
		q.Set("storage", o.Storage)
	}
	if o.Unprivileged != nil {
		q.Set("unprivileged", boolParam(*o.Unprivileged))
	}
	if o.Password != "" {
		q.Set("password", o.Password.Reveal())
	}
	if o.SSHPublicKeys != "" {
		q.Set("ssh-public-keys", o.SSHPublicKeys)
	}
	if o.Start {
		q.Set("start", "1")
	}
	return c.task(ctx, call{method: http.MethodPost, tmpl: "/nodes/{node}/lxc", args: []any{node}, params: q})
}

// NextID asks PVE for a free vmid: with vmid > 0, that one if no guest
// holds it (else PVE's 400 "VM N already exists"), otherwise the lowest
// free one.
//
// PVE: GET /cluster/nextid
func (c *Client) NextID(ctx context.Context, vmid int) (int, error) {
	q := url.Values{}
	if vmid > 0 {
		q.Set("vmid", strconv.Itoa(vmid))
	}
	// The schema says integer; the value may come as a JSON number or
	// a string, so both are read.
	var raw json.RawMessage
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/cluster/nextid", params: q, out: &raw}); err != nil {
		return 0, err
	}
	id, err := strconv.Atoi(strings.Trim(string(raw), `"`))
	if err != nil {
		return 0, fmt.Errorf("GET /cluster/nextid: answer %s: %w", raw, err)
	}
	return id, nil
}

// task performs k and parses the UPID PVE answers with.
func (c *Client) task(ctx context.Context, k call) (UPID, error) {
	var data string
	k.out = &data
	if err := c.do(ctx, k); err != nil {
		return UPID{}, err
	}
	return k.parseUPID(data)
}

// parseUPID parses the UPID k was answered with; an error names the request.
func (k *call) parseUPID(data string) (UPID, error) {
	u, err := ParseUPID(data)
	if err != nil {
		p, _ := k.path() // it worked for the request
		return UPID{}, fmt.Errorf("%s %s: answer: %w", k.method, p, err)
	}
	return u, nil
}

// setParams turns option values into request parameters, refusing the
// names the method sets itself (a "digest" among the values would silently
// replace the real one).
func setParams(set map[string]string, reserved ...string) (url.Values, error) {
	q := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if k == "" || slices.Contains(reserved, k) {
			return nil, fmt.Errorf("option %q cannot be set as a value", k)
		}
		q.Set(k, set[k])
	}
	return q, nil
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
