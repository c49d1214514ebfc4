package pve

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// Version returns the server's PVE version.
//
// PVE: GET /version
func (c *Client) Version(ctx context.Context) (Version, error) {
	var v Version
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/version", out: &v}); err != nil {
		return Version{}, err
	}
	return v, nil
}

// Nodes lists the cluster's nodes.
//
// PVE: GET /nodes
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes", out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// NodeTime returns a node's clock and time zone. Location loads the
// zone, which PVE's own schedules (backup jobs) are evaluated in.
//
// PVE: GET /nodes/{node}/time
func (c *Client) NodeTime(ctx context.Context, node string) (NodeTime, error) {
	var t NodeTime
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/time", args: []any{node}, out: &t}); err != nil {
		return NodeTime{}, err
	}
	return t, nil
}

// ClusterResources lists the cluster's resources of type typ ("vm" for
// guests, "storage", "node"; "" for all).
//
// PVE: GET /cluster/resources
func (c *Client) ClusterResources(ctx context.Context, typ string) ([]Resource, error) {
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	var out []Resource
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/cluster/resources", params: q, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// Containers lists the containers on node.
//
// PVE: GET /nodes/{node}/lxc
func (c *Client) Containers(ctx context.Context, node string) ([]ContainerListEntry, error) {
	var out []ContainerListEntry
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/lxc", args: []any{node}, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// Config returns a container's config. With current false PVE merges the
// pending values in (what the container will run after a restart); with
// current true it returns what is live now.
//
// PVE: GET /nodes/{node}/lxc/{vmid}/config
func (c *Client) Config(ctx context.Context, node string, vmid int, current bool) (ConfigValues, error) {
	q := url.Values{}
	if current {
		q.Set("current", "1")
	}
	var out ConfigValues
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/lxc/{vmid}/config", args: []any{node, vmid}, params: q, out: &out}); err != nil {
		return nil, err
	}
	if out == nil {
		out = ConfigValues{}
	}
	return out, nil
}

// Pending returns a container's current values, pending values, pending
// deletes and the digest, in one call.
//
// PVE: GET /nodes/{node}/lxc/{vmid}/pending
func (c *Client) Pending(ctx context.Context, node string, vmid int) (PendingConfig, error) {
	var entries PendingList
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/lxc/{vmid}/pending", args: []any{node, vmid}, out: &entries}); err != nil {
		return PendingConfig{}, err
	}
	var p PendingConfig
	for _, e := range entries {
		if e.Key == "digest" {
			if e.Value != nil {
				p.Digest = *e.Value
			}
			continue
		}
		p.Entries = append(p.Entries, e)
	}
	sort.Slice(p.Entries, func(i, j int) bool { return p.Entries[i].Key < p.Entries[j].Key })
	return p, nil
}

// CurrentStatus returns a container's run state, lock and usage.
//
// PVE: GET /nodes/{node}/lxc/{vmid}/status/current
func (c *Client) CurrentStatus(ctx context.Context, node string, vmid int) (ContainerStatus, error) {
	var s ContainerStatus
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/lxc/{vmid}/status/current", args: []any{node, vmid}, out: &s}); err != nil {
		return ContainerStatus{}, err
	}
	return s, nil
}

// Snapshots lists a container's snapshots, including PVE's "current" entry,
// in the order PVE sends them.
//
// PVE: GET /nodes/{node}/lxc/{vmid}/snapshot
func (c *Client) Snapshots(ctx context.Context, node string, vmid int) ([]Snapshot, error) {
	var out []Snapshot
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", args: []any{node, vmid}, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// Storages lists the storages available on node.
//
// PVE: GET /nodes/{node}/storage
func (c *Client) Storages(ctx context.Context, node string) ([]Storage, error) {
	var out []Storage
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/storage", args: []any{node}, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// StorageContent lists the volumes on a storage, e.g. the backups of one
// container (q.Content "backup", q.VMID).
//
// PVE: GET /nodes/{node}/storage/{storage}/content
func (c *Client) StorageContent(ctx context.Context, node, storage string, q ContentQuery) ([]Volume, error) {
	p := url.Values{}
	if q.Content != "" {
		p.Set("content", q.Content)
	}
	if q.VMID != 0 {
		p.Set("vmid", strconv.Itoa(q.VMID))
	}
	var out []Volume
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/storage/{storage}/content", args: []any{node, storage}, params: p, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// ExtractConfig returns the container config a vzdump backup holds, as
// its text (pct.conf: "key: value" lines, maybe snapshot sections). PVE
// answers it to who may restore the backup (VM.Backup on its guest and
// Datastore.AllocateSpace on the storage, or Datastore.Allocate).
//
// PVE: GET /nodes/{node}/vzdump/extractconfig
func (c *Client) ExtractConfig(ctx context.Context, node, volid string) (string, error) {
	var out string
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/vzdump/extractconfig", args: []any{node}, params: url.Values{"volume": {volid}}, out: &out}); err != nil {
		return "", err
	}
	return out, nil
}

// PruneBackupsDryRun returns what pruning a storage's backups would keep and
// remove, without removing anything.
//
// PVE: GET /nodes/{node}/storage/{storage}/prunebackups
func (c *Client) PruneBackupsDryRun(ctx context.Context, node, storage string, q PruneQuery) ([]PruneEntry, error) {
	var out []PruneEntry
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/storage/{storage}/prunebackups", args: []any{node, storage}, params: pruneParams(q), out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// pruneParams returns q as the parameters of GET and DELETE .../prunebackups.
func pruneParams(q PruneQuery) url.Values {
	p := url.Values{}
	if q.PruneBackups != "" {
		p.Set("prune-backups", q.PruneBackups)
	}
	if q.Type != "" {
		p.Set("type", q.Type)
	}
	if q.VMID != 0 {
		p.Set("vmid", strconv.Itoa(q.VMID))
	}
	return p
}

// TaskStatus returns a task's state and, once stopped, its exit status.
//
// PVE: GET /nodes/{node}/tasks/{upid}/status
func (c *Client) TaskStatus(ctx context.Context, upid UPID) (TaskStatus, error) {
	var s TaskStatus
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/tasks/{upid}/status", args: []any{upid.Node, upid}, out: &s}); err != nil {
		return TaskStatus{}, err
	}
	return s, nil
}

// TaskLog returns up to limit lines of a task's log from line start (0 is
// the first). limit 0 means PVE's default (50).
//
// PVE: GET /nodes/{node}/tasks/{upid}/log
func (c *Client) TaskLog(ctx context.Context, upid UPID, start, limit int) ([]TaskLogLine, error) {
	lines, _, err := c.taskLog(ctx, upid, start, limit)
	return lines, err
}

// taskLog is TaskLog plus the log's total line count (PVE's "total" beside
// "data"; -1 when the server does not send it).
func (c *Client) taskLog(ctx context.Context, upid UPID, start, limit int) ([]TaskLogLine, int, error) {
	q := url.Values{}
	q.Set("start", strconv.Itoa(start))
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []TaskLogLine
	total := -1
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/nodes/{node}/tasks/{upid}/log", args: []any{upid.Node, upid}, params: q, out: &out, total: &total}); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// Permissions returns what the token may do: for each ACL path, its
// privileges. With path "" PVE lists every path the token has a privilege on;
// otherwise the privileges on that path alone.
//
// PVE: GET /access/permissions
func (c *Client) Permissions(ctx context.Context, path string) (Permissions, error) {
	q := url.Values{}
	if path != "" {
		q.Set("path", path)
	}
	var out Permissions
	if err := c.do(ctx, call{method: http.MethodGet, tmpl: "/access/permissions", params: q, out: &out}); err != nil {
		return nil, err
	}
	if out == nil {
		out = Permissions{}
	}
	return out, nil
}
