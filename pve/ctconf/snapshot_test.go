package ctconf

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
)

func readRef(t *testing.T, name string) string {
	t.Helper()
	p := testref.Read(t, filepath.Join(refDir, name))
	return string(p)
}

func checkBytes(t *testing.T, f *File, want string) {
	t.Helper()
	if got := string(f.Bytes()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestSnapshotDeleteReference: pve-container's delete test 104 (delete
// test2 of test <- test2 <- test3): the section goes, test3 is re-parented
// to test, the current config keeps parent test3.
func TestSnapshotDeleteReference(t *testing.T) {
	before := readRef(t, "snapshot-chain-3-snaps.conf")
	after := readRef(t, "snapshot-chain-after-delete-test2.conf")
	t.Run("one step", func(t *testing.T) {
		f := mustParse(t, before)
		if err := f.SnapshotDelete("test2"); err != nil {
			t.Fatal(err)
		}
		checkBytes(t, f, after)
	})
	t.Run("begin then delete", func(t *testing.T) {
		f := mustParse(t, before)
		if err := f.SnapshotDeleteBegin("test2"); err != nil {
			t.Fatal(err)
		}
		if f.Lock() != LockSnapshotDelete || f.Snapshot("test2").Snapstate() != "delete" {
			t.Fatalf("after begin: lock %q snapstate %q", f.Lock(), f.Snapshot("test2").Snapstate())
		}
		mid := string(f.Bytes())
		if !strings.Contains(mid, "lock: snapshot-delete\n") || !strings.Contains(mid, "snapstate: delete\n") {
			t.Errorf("intermediate file lacks lock or snapstate:\n%s", mid)
		}
		if err := f.SnapshotDelete("test2"); err != nil {
			t.Fatal(err)
		}
		checkBytes(t, f, after)
	})
}

// TestRollbackReference: pve-container's rollback test 104 (roll back to
// test2): its input is the chain file's current config with the snapshot
// sections of the expected file (only test2 differs).
func TestRollbackReference(t *testing.T) {
	chain := mustParse(t, readRef(t, "snapshot-chain-3-snaps.conf"))
	after := readRef(t, "snapshot-after-rollback-to-test2.conf")
	f := mustParse(t, after)
	f.Main = chain.Main
	if v, _ := f.Get("memory"); v != "2048" {
		t.Fatalf("input memory %q", v)
	}
	t.Run("one step", func(t *testing.T) {
		g := f.Clone()
		if err := g.Rollback("test2"); err != nil {
			t.Fatal(err)
		}
		checkBytes(t, g, after)
	})
	t.Run("begin then rollback", func(t *testing.T) {
		g := f.Clone()
		if err := g.RollbackBegin("test2"); err != nil {
			t.Fatal(err)
		}
		if g.Lock() != LockRollback {
			t.Fatalf("lock %q", g.Lock())
		}
		if err := g.Rollback("test2"); err != nil {
			t.Fatal(err)
		}
		checkBytes(t, g, after)
	})
}

// TestRollbackKeepsDescriptionAndUnused: pve-container's rollback test 105:
// the current description and unused0 survive, the snapshot's description
// does not reach the current config.
func TestRollbackKeepsDescriptionAndUnused(t *testing.T) {
	in := readRef(t, "snapshot-with-unused-and-description.conf")
	f := mustParse(t, in)
	if err := f.Rollback("test"); err != nil {
		t.Fatal(err)
	}
	snapSection := in[strings.Index(in, "\n[test]\n"):]
	want := "# should be preserved\n" +
		"arch: amd64\ncpulimit: 2\ncpuunits: 2048\nhostname: test2\nmemory: 4096\n" +
		"mp0: local:snapshotable-disk-2,mp=/invalid/mp0\nmp1: local:snapshotable-disk-3,mp=/invalid/mp1\n" +
		"net0: bridge=vmbr0,hwaddr=12:34:56:78:90:12,ip=dhcp,ip6=dhcp,name=eth0,type=veth\n" +
		"ostype: redhat\nparent: test\nrootfs: local:snapshotable-disk-1\nswap: 1024\n" +
		"unused0: preserved:some-disk-1\n" + snapSection
	checkBytes(t, f, want)
}

// TestSnapshotPrepareReference: pve-container's prepare test 102 (expected
// file snapshot-create-in-progress-lock-snapstate.conf): taking test2 with
// the comment "test comment" at time 1234567890 writes lock: snapshot and
// a section with snapstate: prepare. Its input is the expected file
// without the lock and without test2.
func TestSnapshotPrepareReference(t *testing.T) {
	want := readRef(t, "snapshot-create-in-progress-lock-snapstate.conf")
	f := mustParse(t, want)
	f.SetLock("")
	f.Snapshots = f.Snapshots[:1]
	if f.Snapshots[0].Name != "test" {
		t.Fatalf("first section %q", f.Snapshots[0].Name)
	}
	if err := f.SnapshotPrepare("test2", "test comment", 1234567890); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, f, want)

	// Commit: lock and snapstate go, parent moves to test2.
	if err := f.SnapshotCommit("test2"); err != nil {
		t.Fatal(err)
	}
	committed := strings.Replace(want, "lock: snapshot\n", "", 1)
	committed = strings.Replace(committed, "parent: test\nrootfs: somestore:somedisk\nswap", "parent: test2\nrootfs: somestore:somedisk\nswap", 1)
	committed = strings.Replace(committed, "snapstate: prepare\n", "", 1)
	checkBytes(t, f, committed)
}

// TestSnapshotCreateReference: pve-container's create test 103: mp0 and
// mp1 are copied into the new section; the current config gets parent.
func TestSnapshotCreateReference(t *testing.T) {
	want := readRef(t, "snapshot-with-mountpoints.conf")
	f := mustParse(t, want)
	f.Snapshots = nil
	f.Delete("parent")
	if err := f.SnapshotPrepare("test", "test comment", 1234567890); err != nil {
		t.Fatal(err)
	}
	if err := f.SnapshotCommit("test"); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, f, want)
}

func TestSnapshotRules(t *testing.T) {
	const base = "arch: amd64\nmemory: 512\nostype: debian\nparent: s1\nrootfs: local-lvm:vm-100-disk-0,size=8G\n" +
		"mp0: local-lvm:vm-100-disk-1,mp=/data,size=4G\n" +
		"\n[s1]\nmemory: 256\nrootfs: local-lvm:vm-100-disk-0,size=8G\nsnaptime: 100\n" +
		"\n[s2]\nmemory: 256\nparent: s1\nrootfs: local-lvm:vm-100-disk-0,size=8G\nsnapstate: prepare\nsnaptime: 200\n"
	tests := []struct {
		name string
		edit func(f *File)
		op   func(f *File) error
		want string // error text; "" for success
	}{
		{"name clash", nil, func(f *File) error { return f.SnapshotPrepare("s1", "", 1) }, "snapshot name 's1' already used"},
		{"locked", func(f *File) { f.SetLock("backup") }, func(f *File) error { return f.SnapshotPrepare("s3", "", 1) }, "CT is locked (backup)"},
		{"template", func(f *File) { f.Set("template", "1") }, func(f *File) error { return f.SnapshotPrepare("s3", "", 1) }, "you can't take a snapshot if it's a template"},
		{"commit without lock", nil, func(f *File) error { return f.SnapshotCommit("s2") }, "missing snapshot lock"},
		{"commit unknown", func(f *File) { f.SetLock("snapshot") }, func(f *File) error { return f.SnapshotCommit("nope") }, "snapshot 'nope' does not exist"},
		{"commit complete snapshot", func(f *File) { f.SetLock("snapshot") }, func(f *File) error { return f.SnapshotCommit("s1") }, "wrong snapshot state"},
		{"rollback incomplete", nil, func(f *File) error { return f.Rollback("s2") }, "unable to rollback to incomplete snapshot (snapstate = prepare)"},
		{"rollback unknown", nil, func(f *File) error { return f.Rollback("nope") }, "snapshot 'nope' does not exist"},
		{"rollback locked", func(f *File) { f.SetLock("backup") }, func(f *File) error { return f.Rollback("s1") }, "CT is locked (backup)"},
		{"rollback wrong lock", func(f *File) { f.SetLock("snapshot") }, func(f *File) error { return f.Rollback("s1") }, "CT is locked (snapshot)"},
		{"rollback template", func(f *File) { f.Set("template", "1") }, func(f *File) error { return f.Rollback("s1") }, "you can't rollback if vm is a template"},
		{"delete unknown", nil, func(f *File) error { return f.SnapshotDelete("nope") }, "snapshot 'nope' does not exist"},
		{"delete locked", func(f *File) { f.SetLock("backup") }, func(f *File) error { return f.SnapshotDeleteBegin("s1") }, "CT is locked (backup)"},
		{"delete under wrong lock", func(f *File) { f.SetLock("backup") }, func(f *File) error { return f.SnapshotDelete("s1") }, "CT is locked (backup)"},
		{"delete template", func(f *File) { f.Set("template", "1") }, func(f *File) error { return f.SnapshotDelete("s1") }, "you can't delete a snapshot if vm is a template"},
		{"delete incomplete create under snapshot lock", func(f *File) { f.SetLock("snapshot") }, func(f *File) error { return f.SnapshotDelete("s2") }, ""},
		{"prepare ok", nil, func(f *File) error { return f.SnapshotPrepare("s3", "", 1) }, ""},
		{"check name clash", nil, func(f *File) error { return f.SnapshotCheck("s1") }, "snapshot name 's1' already used"},
		{"check locked before clash", func(f *File) { f.SetLock("backup") }, func(f *File) error { return f.SnapshotCheck("s1") }, "CT is locked (backup)"},
		{"check template first", func(f *File) { f.Set("template", "1"); f.SetLock("backup") }, func(f *File) error { return f.SnapshotCheck("s1") }, "you can't take a snapshot if it's a template"},
		{"check ok changes nothing", nil, func(f *File) error {
			before := string(f.Bytes())
			if err := f.SnapshotCheck("s3"); err != nil || string(f.Bytes()) != before {
				return fmt.Errorf("SnapshotCheck: %v, changed %v", err, string(f.Bytes()) != before)
			}
			return nil
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, base)
			if tc.edit != nil {
				tc.edit(f)
			}
			before := string(f.Bytes())
			err := tc.op(f)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if after := string(f.Bytes()); after != before {
				t.Errorf("failed operation changed the file:\n%s", after)
			}
		})
	}
}

func TestCheckLockIsTyped(t *testing.T) {
	f := mustParse(t, "lock: backup\nmemory: 1\n")
	var le *LockedError
	if err := f.CheckLock(); !errors.As(err, &le) || le.Lock != "backup" {
		t.Fatalf("CheckLock = %v", err)
	}
	f.SetLock("")
	if err := f.CheckLock(); err != nil {
		t.Fatalf("unlocked: %v", err)
	}
}

func TestValidSnapshotName(t *testing.T) {
	tests := []struct {
		name  string
		param string // ParamError message on snapname
		plain string // plain error
	}{
		{name: "ok"},
		{name: "Before-Upgrade_2"},
		{name: strings.Repeat("a", 40)},
		{name: "a", param: "invalid format - invalid configuration ID 'a'\n"},
		{name: "1abc", param: "invalid format - invalid configuration ID '1abc'\n"},
		{name: "has.dot", param: "invalid format - invalid configuration ID 'has.dot'\n"},
		{name: strings.Repeat("a", 41), param: "value may only be 40 characters long"},
		{name: "current", plain: "unable to use snapshot name 'current' (reserved name)"},
		{name: "vzdump", plain: "unable to use snapshot name 'vzdump' (reserved name)"},
	}
	for _, tc := range tests {
		err := ValidSnapshotName(tc.name)
		var pe *ParamError
		switch {
		case tc.param != "":
			if !errors.As(err, &pe) || pe.Errors["snapname"] != tc.param {
				t.Errorf("%q: err = %v, want param error %q", tc.name, err, tc.param)
			}
		case tc.plain != "":
			if err == nil || errors.As(err, &pe) || err.Error() != tc.plain {
				t.Errorf("%q: err = %v, want %q", tc.name, err, tc.plain)
			}
		default:
			if err != nil {
				t.Errorf("%q: %v", tc.name, err)
			}
		}
	}
}

// TestSnapshotPrepareDropsCycle: a snapshot whose parent has the new name
// loses that parent (PVE warns of a bogus cycle).
func TestSnapshotPrepareDropsCycle(t *testing.T) {
	f := mustParse(t, "memory: 1\n\n[aa]\nmemory: 1\nparent: bb\nsnaptime: 1\n")
	if err := f.SnapshotPrepare("bb", "", 2); err != nil {
		t.Fatal(err)
	}
	if p := f.Snapshot("aa").Parent(); p != "" {
		t.Errorf("aa parent %q", p)
	}
}

// TestSnapshotDeleteOffersVolumes: a volume only a deleted snapshot used
// becomes unusedN; one the current config uses does not. As in PVE, every
// volume of the snapshot is offered in rootfs, mp0... order and the used
// ones vanish only when the file is written, so the rootfs took unused0
// and the free volume lands in unused1.
func TestSnapshotDeleteOffersVolumes(t *testing.T) {
	f := mustParse(t, "memory: 1\nparent: aa\nrootfs: local-lvm:vm-1-disk-0,size=8G\n"+
		"\n[aa]\nmemory: 1\nmp0: local-lvm:vm-1-disk-1,mp=/old,size=1G\nrootfs: local-lvm:vm-1-disk-0,size=8G\nsnaptime: 1\n")
	if err := f.SnapshotDelete("aa"); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, f, "memory: 1\nrootfs: local-lvm:vm-1-disk-0,size=8G\nunused1: local-lvm:vm-1-disk-1\n")
}

// TestRollbackUnusedAndPending: a volume added after the snapshot becomes
// unusedN; pending changes and lxc lines of the current config are lost.
func TestRollbackUnusedAndPending(t *testing.T) {
	f := mustParse(t, "#now\nmemory: 2\nmp0: local-lvm:vm-1-disk-2,mp=/new,size=1G\nparent: aa\nrootfs: local-lvm:vm-1-disk-0,size=8G\n"+
		"lxc.apparmor.profile: unconfined\n"+
		"\n[pve:pending]\nmemory: 4\n"+
		"\n[aa]\n#then\nmemory: 1\nrootfs: local-lvm:vm-1-disk-0,size=8G\nsnaptime: 1\n")
	if err := f.Rollback("aa"); err != nil {
		t.Fatal(err)
	}
	checkBytes(t, f, "#now\nmemory: 1\nparent: aa\nrootfs: local-lvm:vm-1-disk-0,size=8G\nunused0: local-lvm:vm-1-disk-2\n"+
		"\n[aa]\n#then\nmemory: 1\nrootfs: local-lvm:vm-1-disk-0,size=8G\nsnaptime: 1\n")
}

func TestMountKeys(t *testing.T) {
	f := mustParse(t, readRef(t, "snapshot-with-mountpoints.conf"))
	if got, want := f.Main.MountKeys(), []string{"rootfs", "mp0", "mp1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MountKeys = %q, want %q", got, want)
	}
	if v, _ := f.Get("mp1"); v != "local:snapshotable-disk-3,mp=/invalid/mp1" {
		t.Errorf("mp1 = %q", v)
	}
}

func TestSnapshotEntries(t *testing.T) {
	text := readRef(t, "snapshot-create-in-progress-lock-snapstate.conf")
	f := mustParse(t, text)
	got := f.SnapshotEntries(true)
	want := []SnapshotEntry{
		{Name: "test", Snaptime: 1234567890, Description: "test comment\n"},
		{Name: "test2", Snaptime: 1234567890, Description: "test comment\n", Parent: "test", HasParent: true, Snapstate: "prepare"},
		{Name: "current", Current: true, Digest: Digest([]byte(text)), Running: true, Description: "You are here!", Parent: "test", HasParent: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d:\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}
}

func TestSetSnapshotDescription(t *testing.T) {
	f := mustParse(t, readRef(t, "snapshot-chain-3-snaps.conf"))
	if err := f.SetSnapshotDescription("test2", "line one\nline: two"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(f.Bytes()), "\n[test2]\n#line one\n#line%3A two\narch") {
		t.Errorf("description not written:\n%s", f.Bytes())
	}
	if err := f.SetSnapshotDescription("nope", "x"); err == nil || err.Error() != "snapshot 'nope' does not exist" {
		t.Errorf("unknown snapshot: %v", err)
	}
	f.SetLock("backup")
	if err := f.SetSnapshotDescription("test", "x"); err == nil || err.Error() != "CT is locked (backup)" {
		t.Errorf("locked: %v", err)
	}
}
