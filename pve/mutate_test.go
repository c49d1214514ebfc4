package pve

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestMutations(t *testing.T) {
	const us = "UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:"
	upid := mustUPID(t, us)
	answer := `{"data":"` + us + `"}`
	task := func(f func(context.Context, *Client) (UPID, error)) func(context.Context, *Client) (any, error) {
		return func(ctx context.Context, c *Client) (any, error) { return f(ctx, c) }
	}
	runEndpointCases(t, []endpointCase{{
		// PVE's PUT config is synchronous: {"data":null}.
		name:    "set config null",
		pattern: "PUT /nodes/{node}/lxc/{vmid}/config",
		params:  url.Values{"memory": {"1024"}, "net0": {"name=eth0,bridge=vmbr0"}, "delete": {"mp1,cpulimit"}, "revert": {"swap"}, "digest": {"abc123"}},
		body:    `{"data":null}`,
		call: func(ctx context.Context, c *Client) (any, error) {
			return c.SetConfig(ctx, "pve", 100, ConfigChange{
				Set:    map[string]string{"memory": "1024", "net0": "name=eth0,bridge=vmbr0"},
				Delete: []string{"mp1", "cpulimit"},
				Revert: []string{"swap"},
				Digest: "abc123",
			})
		},
		want: (*UPID)(nil),
	}, {
		name:    "set config upid",
		pattern: "PUT /nodes/{node}/lxc/{vmid}/config",
		params:  url.Values{"cores": {"2"}},
		body:    answer,
		call: func(ctx context.Context, c *Client) (any, error) {
			return c.SetConfig(ctx, "pve", 100, ConfigChange{Set: map[string]string{"cores": "2"}})
		},
		want: &upid,
	}, {
		name:    "resize",
		pattern: "PUT /nodes/{node}/lxc/{vmid}/resize",
		params:  url.Values{"disk": {"rootfs"}, "size": {"+2G"}, "digest": {"d"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.Resize(ctx, "pve", 100, "rootfs", "+2G", "d")
		}),
		want: upid,
	}, {
		name:    "create snapshot",
		pattern: "POST /nodes/{node}/lxc/{vmid}/snapshot",
		params:  url.Values{"snapname": {"felhom-1"}, "description": {"plan abc"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.CreateSnapshot(ctx, "pve", 100, "felhom-1", "plan abc")
		}),
		want: upid,
	}, {
		// PVE's PUT snapshot config is synchronous: {"data":null}.
		name:    "update snapshot description",
		pattern: "PUT /nodes/pve/lxc/100/snapshot/felhom-1/config",
		params:  url.Values{"description": {"plan abc\nfelhom-baseline: {\"memory\":\"2 GiB\"}"}},
		body:    `{"data":null}`,
		call: func(ctx context.Context, c *Client) (any, error) {
			return nil, c.UpdateSnapshotDescription(ctx, "pve", 100, "felhom-1", "plan abc\nfelhom-baseline: {\"memory\":\"2 GiB\"}")
		},
		want: nil,
	}, {
		name:    "delete snapshot",
		pattern: "DELETE /nodes/pve/lxc/100/snapshot/felhom-1",
		params:  url.Values{"force": {"1"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.DeleteSnapshot(ctx, "pve", 100, "felhom-1", true)
		}),
		want: upid,
	}, {
		name:    "rollback",
		pattern: "POST /nodes/pve/lxc/100/snapshot/felhom-1/rollback",
		params:  url.Values{"start": {"1"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.RollbackSnapshot(ctx, "pve", 100, "felhom-1", true)
		}),
		want: upid,
	}, {
		name:    "vzdump",
		pattern: "POST /nodes/pve/vzdump",
		params: url.Values{"vmid": {"100"}, "storage": {"local"}, "mode": {"snapshot"}, "compress": {"zstd"},
			"prune-backups": {"keep-last=3"}, "notes-template": {"{{guestname}}"}, "protected": {"1"}, "remove": {"0"}},
		body: answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.Vzdump(ctx, "pve", VzdumpOptions{VMID: 100, Storage: "local", Mode: "snapshot", Compress: "zstd",
				PruneBackups: "keep-last=3", NotesTemplate: "{{guestname}}", Protected: true, Remove: ptr(false)})
		}),
		want: upid,
	}, {
		name:    "vzdump of a vmid list",
		pattern: "POST /nodes/pve/vzdump",
		params:  url.Values{"vmid": {"101,102,205"}, "storage": {"nas"}, "prune-backups": {"keep-daily=7"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.Vzdump(ctx, "pve", VzdumpOptions{VMIDs: []int{101, 102, 205}, Storage: "nas", PruneBackups: "keep-daily=7"})
		}),
		want: upid,
	}, {
		name:    "vzdump defaults",
		pattern: "POST /nodes/pve/vzdump",
		params:  url.Values{"vmid": {"100"}},
		body:    answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.Vzdump(ctx, "pve", VzdumpOptions{VMID: 100})
		}),
		want: upid,
	}, {
		// The parameters go in the query (a DELETE with a body gets 501);
		// runEndpointCases checks that.
		name:    "prune backups of one container",
		pattern: "DELETE /nodes/pve/storage/local/prunebackups",
		params:  url.Values{"prune-backups": {"keep-daily=7,keep-last=3"}, "type": {"lxc"}, "vmid": {"100"}},
		body:    `{"data":"UPID:pve:0000377E:19E15146:5F3C0469:prunebackups:100@local:felhom@pve!ci:"}`,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.PruneBackups(ctx, "pve", "local", PruneQuery{PruneBackups: "keep-daily=7,keep-last=3", Type: "lxc", VMID: 100})
		}),
		want: mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:prunebackups:100@local:felhom@pve!ci:"),
	}, {
		name:    "prune backups by the storage's retention",
		pattern: "DELETE /nodes/pve/storage/local/prunebackups",
		body:    `{"data":"UPID:pve:0000377E:19E15146:5F3C0469:prunebackups:local:felhom@pve!ci:"}`,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.PruneBackups(ctx, "pve", "local", PruneQuery{})
		}),
		want: mustUPID(t, "UPID:pve:0000377E:19E15146:5F3C0469:prunebackups:local:felhom@pve!ci:"),
	}, {
		name:    "start",
		pattern: "POST /nodes/pve/lxc/100/status/start",
		body:    answer,
		call:    task(func(ctx context.Context, c *Client) (UPID, error) { return c.Start(ctx, "pve", 100) }),
		want:    upid,
	}, {
		name:    "stop",
		pattern: "POST /nodes/pve/lxc/100/status/stop",
		body:    answer,
		call:    task(func(ctx context.Context, c *Client) (UPID, error) { return c.Stop(ctx, "pve", 100) }),
		want:    upid,
	}, {
		name:    "shutdown",
		pattern: "POST /nodes/pve/lxc/100/status/shutdown",
		body:    answer,
		call:    task(func(ctx context.Context, c *Client) (UPID, error) { return c.Shutdown(ctx, "pve", 100) }),
		want:    upid,
	}, {
		name:    "reboot",
		pattern: "POST /nodes/pve/lxc/100/status/reboot",
		body:    answer,
		call:    task(func(ctx context.Context, c *Client) (UPID, error) { return c.Reboot(ctx, "pve", 100) }),
		want:    upid,
	}, {
		name:    "create",
		pattern: "POST /nodes/pve/lxc",
		params: url.Values{"vmid": {"121"}, "ostemplate": {"local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst"}, "storage": {"local-lvm"},
			"unprivileged": {"0"}, "password": {"hunter22"}, "ssh-public-keys": {"ssh-ed25519 AAAA u@h"}, "start": {"1"}, "hostname": {"new"}},
		body: answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			no := false
			return c.Create(ctx, "pve", CreateOptions{VMID: 121, Template: "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", Storage: "local-lvm",
				Unprivileged: &no, Password: "hunter22", SSHPublicKeys: "ssh-ed25519 AAAA u@h", Start: true, Set: map[string]string{"hostname": "new"}})
		}),
		want: upid,
	}, {
		name:    "restore",
		pattern: "POST /nodes/pve/lxc",
		params: url.Values{"vmid": {"120"}, "ostemplate": {"local:backup/vzdump-lxc-100-2026_01_02-03_04_05.tar.zst"}, "restore": {"1"},
			"storage": {"local-lvm"}, "force": {"1"}, "unique": {"1"}, "start": {"1"}, "hostname": {"web2"}},
		body: answer,
		call: task(func(ctx context.Context, c *Client) (UPID, error) {
			return c.Restore(ctx, "pve", RestoreOptions{VMID: 120, Archive: "local:backup/vzdump-lxc-100-2026_01_02-03_04_05.tar.zst",
				Storage: "local-lvm", Force: true, Unique: true, Start: true, Set: map[string]string{"hostname": "web2"}})
		}),
		want: upid,
	}})
}

func TestMutationRefusesBadInput(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s %s", r.Method, r.URL) })
	ctx := context.Background()
	if _, err := f.c.SetConfig(ctx, "pve", 100, ConfigChange{Digest: "x"}); err == nil {
		t.Error("empty change accepted")
	}
	if _, err := f.c.SetConfig(ctx, "pve", 100, ConfigChange{Set: map[string]string{"digest": "x"}}); err == nil {
		t.Error("digest among the values accepted")
	}
	if _, err := f.c.Restore(ctx, "pve", RestoreOptions{VMID: 1, Archive: "a", Set: map[string]string{"force": "1"}}); err == nil {
		t.Error("force among the restore values accepted")
	}
	if _, err := f.c.Vzdump(ctx, "pve", VzdumpOptions{}); err == nil {
		t.Error("vzdump without vmid accepted")
	}
	if _, err := f.c.Vzdump(ctx, "pve", VzdumpOptions{VMIDs: []int{101, 0}}); err == nil {
		t.Error("vzdump of vmid 0 accepted")
	}
	if _, err := f.c.Create(ctx, "pve", CreateOptions{VMID: 1, Template: "a", Set: map[string]string{"password": "x"}}); err == nil {
		t.Error("password among the create values accepted")
	}
	if _, err := f.c.Create(ctx, "pve", CreateOptions{VMID: 1}); err == nil {
		t.Error("create without template accepted")
	}
	if _, err := f.c.Restore(ctx, "pve", RestoreOptions{VMID: 1}); err == nil {
		t.Error("restore without archive accepted")
	}
	if _, err := f.c.Start(ctx, "", 100); err == nil {
		t.Error("empty node accepted")
	}
}

func TestMutationBadUPID(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("POST /api2/json/nodes/pve/lxc/100/status/start", func(w http.ResponseWriter, r *http.Request) {
		writeData(t, w, "not a upid")
	})
	if _, err := f.c.Start(context.Background(), "pve", 100); err == nil {
		t.Error("garbage UPID accepted")
	}
}

// TestUpdateSnapshotDescriptionErrors checks that PVE's refusals come back
// typed and name the container and the snapshot: a snapshot that is gone
// (update_snapshot_config dies "snapshot 'x' does not exist") and a config
// lock (check_lock).
func TestUpdateSnapshotDescriptionErrors(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want error
	}{
		{"snapshot 'felhom-1' does not exist", ErrNotFound},
		{"CT is locked (backup)", ErrLocked},
	} {
		t.Run(tt.msg, func(t *testing.T) {
			f := setup(t)
			f.mux.HandleFunc(prefixPattern("PUT /nodes/pve/lxc/100/snapshot/felhom-1/config"), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"data":null,"message":"`+tt.msg+`\n"}`)
			})
			err := f.c.UpdateSnapshotDescription(context.Background(), "pve", 100, "felhom-1", "x")
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "PUT /nodes/pve/lxc/100/snapshot/felhom-1/config: 500 ") {
				t.Errorf("error %q does not name the request (container and snapshot)", err)
			}
		})
	}
}
