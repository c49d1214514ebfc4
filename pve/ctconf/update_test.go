package ctconf

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// fakeStorage is a VolumeAllocator over an in-memory set of volumes.
type fakeStorage struct {
	vmid     int
	next     int
	noRoot   map[string]bool // storages without content rootdir
	failNext error           // Alloc fails once with this
	freed    []string
	sizes    map[string]int64
}

func (s *fakeStorage) CheckRootdir(storage string) error {
	if s.noRoot[storage] {
		return fmt.Errorf("storage '%s' does not allow content type 'rootdir' (Container)", storage)
	}
	return nil
}

func (s *fakeStorage) Alloc(storage, key string, size int64) (string, error) {
	if err := s.failNext; err != nil {
		s.failNext = nil
		return "", err
	}
	s.next++
	return fmt.Sprintf("%s:vm-%d-disk-%d", storage, s.vmid, 10+s.next), nil
}

func (s *fakeStorage) Free(volid string) error {
	s.freed = append(s.freed, volid)
	return nil
}

func (s *fakeStorage) VolumeSize(volid string) (int64, error) {
	if n, ok := s.sizes[volid]; ok {
		return n, nil
	}
	return 0, errors.New("no such volume")
}

func (s *fakeStorage) NewMAC() string { return "BC:24:11:00:00:01" }

const baseConf = "arch: amd64\ncores: 1\nhostname: ct100\nmemory: 512\n" +
	"mp0: local-lvm:vm-100-disk-1,mp=/data,size=4G\n" +
	"net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth\n" +
	"ostype: debian\nrootfs: local-lvm:vm-100-disk-0,size=8G\nswap: 512\n" +
	"unused0: local-lvm:vm-100-disk-5\n"

// every option PVE keeps pending on a running container when it changes.
var pendingOnRunning = map[string]string{
	"rootfs":       "local-lvm:vm-100-disk-0,size=8G,mountoptions=noatime",
	"nameserver":   "1.1.1.1",
	"searchdomain": "example.org",
	"features":     "nesting=1",
	"timezone":     "Europe/Budapest",
	"ostype":       "ubuntu",
	"arch":         "arm64",
	"tty":          "4",
	"console":      "0",
	"cmode":        "shell",
	"entrypoint":   "/bin/init",
	"env":          "A=1",
	"debug":        "1",
	"mp0":          "local-lvm:vm-100-disk-1,mp=/srv,size=4G",
	"template":     "1",
}

// every option PVE applies at once on a running container.
var hotOnRunning = map[string]string{
	"description": "hello",
	"onboot":      "1",
	"startup":     "order=2",
	"protection":  "1",
	"hostname":    "renamed",
	"hookscript":  "local:snippets/hook.pl",
	"cores":       "4",
	"tags":        "web",
	"lock":        "backup",
	"cpulimit":    "1.5",
	"cpuunits":    "200",
	"memory":      "1024",
	"swap":        "0",
	"net1":        "name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=dhcp,type=veth",
	"dev0":        "/dev/ttyUSB0",
}

func TestUpdateRunningEachKey(t *testing.T) {
	for key, value := range pendingOnRunning {
		t.Run("pending/"+key, func(t *testing.T) {
			f := mustParse(t, baseConf)
			res, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{key: value}}, true, &fakeStorage{vmid: 100})
			if err != nil {
				t.Fatal(err)
			}
			if f.Pending == nil {
				t.Fatalf("no pending section")
			}
			if got, _ := f.Pending.Get(key); got != value {
				t.Errorf("pending %s = %q, want %q", key, got, value)
			}
			if !reflect.DeepEqual(res.Pending, []string{key}) || len(res.Applied) != 0 || !res.NeedsRestart() {
				t.Errorf("result %+v", res)
			}
			if HotPluggable(key, f) {
				t.Errorf("HotPluggable(%s) = true", key)
			}
		})
	}
	for key, value := range hotOnRunning {
		t.Run("hot/"+key, func(t *testing.T) {
			f := mustParse(t, baseConf)
			if !HotPluggable(key, f) {
				t.Errorf("HotPluggable(%s) = false", key)
			}
			res, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{key: value}}, true, &fakeStorage{vmid: 100})
			if err != nil {
				t.Fatal(err)
			}
			if f.Pending != nil {
				t.Errorf("pending left: %s", f.Bytes())
			}
			if got, _ := f.Get(key); got != value {
				t.Errorf("%s = %q, want %q", key, got, value)
			}
			if !reflect.DeepEqual(res.Applied, []string{key}) || res.NeedsRestart() {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestUpdateStoppedAppliesEverything(t *testing.T) {
	for _, set := range []map[string]string{pendingOnRunning, hotOnRunning} {
		for key, value := range set {
			t.Run(key, func(t *testing.T) {
				f := mustParse(t, baseConf)
				st := &fakeStorage{vmid: 100, sizes: map[string]int64{"local-lvm:vm-100-disk-1": 4 << 30}}
				res, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{key: value}}, false, st)
				if err != nil {
					t.Fatal(err)
				}
				if f.Pending != nil {
					t.Errorf("pending left: %s", f.Bytes())
				}
				if got, _ := f.Get(key); got != value {
					t.Errorf("%s = %q, want %q", key, got, value)
				}
				if res.NeedsRestart() {
					t.Errorf("result %+v", res)
				}
			})
		}
	}
}

func TestUpdateDeletes(t *testing.T) {
	tests := []struct {
		key     string
		running bool
		hot     bool
	}{
		{"onboot", true, true}, {"hostname", true, true}, {"cores", true, true},
		{"description", true, true}, {"tags", true, true}, {"startup", true, true},
		{"swap", true, true}, {"cpulimit", true, true}, {"cpuunits", true, true},
		{"net0", true, true}, {"net12", true, false}, {"unused0", true, true},
		{"mp0", true, false}, {"nameserver", true, false}, {"features", true, false},
		{"dev0", true, false}, {"arch", true, false},
		{"mp0", false, true}, {"net12", false, true}, {"nameserver", false, true}, {"unused0", false, true},
	}
	const conf = baseConf + "cpulimit: 2\ncpuunits: 100\ndescription: d\ndev0: /dev/ttyUSB0\nfeatures: nesting=1\n" +
		"nameserver: 1.1.1.1\nnet12: name=eth12,bridge=vmbr0,hwaddr=BC:24:11:00:00:12,type=veth\n" +
		"onboot: 1\nstartup: order=1\ntags: a\n"
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/running=%v", tc.key, tc.running), func(t *testing.T) {
			f := mustParse(t, conf)
			if tc.running && DeleteHotPluggable(tc.key) != tc.hot {
				t.Errorf("DeleteHotPluggable(%s) = %v", tc.key, !tc.hot)
			}
			st := &fakeStorage{vmid: 100}
			res, err := f.ApplyUpdate(Update{VMID: 100, Delete: []string{tc.key}}, tc.running, st)
			if err != nil {
				t.Fatal(err)
			}
			_, stillSet := f.Get(tc.key)
			dels := f.PendingDeletes()
			if tc.hot {
				if stillSet || len(dels) != 0 || !reflect.DeepEqual(res.Applied, []string{tc.key}) {
					t.Errorf("not deleted at once: set=%v deletes=%v res=%+v", stillSet, dels, res)
				}
			} else {
				if !stillSet || len(dels) != 1 || dels[0].Key != tc.key || !reflect.DeepEqual(res.Pending, []string{tc.key}) {
					t.Errorf("not pending: set=%v deletes=%v res=%+v", stillSet, dels, res)
				}
			}
			switch {
			case tc.key == "unused0":
				if !reflect.DeepEqual(st.freed, []string{"local-lvm:vm-100-disk-5"}) {
					t.Errorf("freed %v", st.freed)
				}
			case tc.key == "mp0" && !tc.running:
				// delete=mpN keeps the volume as the lowest free unusedN.
				if v, _ := f.Get("unused1"); v != "local-lvm:vm-100-disk-1" {
					t.Errorf("mp0 volume not kept as unused1: %s", f.Bytes())
				}
			}
		})
	}
}

func TestUpdateMountPointVolumes(t *testing.T) {
	t.Run("new mp on running CT is allocated and hot-plugged", func(t *testing.T) {
		f := mustParse(t, baseConf)
		st := &fakeStorage{vmid: 100}
		res, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local-lvm:8,mp=/srv,backup=1"}}, true, st)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("mp1"); v != "local-lvm:vm-100-disk-11,mp=/srv,backup=1,size=8G" {
			t.Errorf("mp1 = %q", v)
		}
		if !reflect.DeepEqual(res.Allocated, []string{"local-lvm:vm-100-disk-11"}) {
			t.Errorf("allocated %v", res.Allocated)
		}
	})
	t.Run("fractional GiB", func(t *testing.T) {
		f := mustParse(t, baseConf)
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local-lvm:0.5,mp=/srv"}}, false, &fakeStorage{vmid: 100}); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("mp1"); v != "local-lvm:vm-100-disk-11,mp=/srv,size=512M" {
			t.Errorf("mp1 = %q", v)
		}
	})
	t.Run("replacing a volume on a stopped CT keeps the old one as unusedN", func(t *testing.T) {
		f := mustParse(t, baseConf)
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp0": "local-lvm:2,mp=/data"}}, false, &fakeStorage{vmid: 100}); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("mp0"); v != "local-lvm:vm-100-disk-11,mp=/data,size=2G" {
			t.Errorf("mp0 = %q", v)
		}
		if v, _ := f.Get("unused1"); v != "local-lvm:vm-100-disk-1" {
			t.Errorf("old volume not in unused1:\n%s", f.Bytes())
		}
	})
	t.Run("changing options of the same volume adds no unusedN", func(t *testing.T) {
		f := mustParse(t, baseConf)
		st := &fakeStorage{vmid: 100, sizes: map[string]int64{"local-lvm:vm-100-disk-1": 4 << 30}}
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp0": "local-lvm:vm-100-disk-1,mp=/data,backup=1"}}, false, st); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("mp0"); v != "local-lvm:vm-100-disk-1,mp=/data,backup=1,size=4G" {
			t.Errorf("mp0 = %q", v)
		}
		if _, ok := f.Get("unused1"); ok {
			t.Errorf("unexpected unused1:\n%s", f.Bytes())
		}
	})
	t.Run("storage without rootdir", func(t *testing.T) {
		f := mustParse(t, baseConf)
		st := &fakeStorage{vmid: 100, noRoot: map[string]bool{"local": true}}
		_, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local:8,mp=/srv"}}, false, st)
		if err == nil || err.Error() != "storage 'local' does not allow content type 'rootdir' (Container)" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("allocation failure on a running CT is a hotplug error and nothing is written", func(t *testing.T) {
		f := mustParse(t, baseConf)
		before := string(f.Bytes())
		st := &fakeStorage{vmid: 100, failNext: errors.New("no space left")}
		_, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local-lvm:8,mp=/srv", "memory": "2048"}}, true, st)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Errors["mp1"] != "unable to hotplug mp1: no space left\n" || len(pe.Errors) != 1 {
			t.Fatalf("err = %#v", err)
		}
		if string(f.Bytes()) != before {
			t.Errorf("file changed:\n%s", f.Bytes())
		}
	})
	t.Run("allocation failure on a stopped CT", func(t *testing.T) {
		f := mustParse(t, baseConf)
		st := &fakeStorage{vmid: 100, failNext: errors.New("no space left")}
		_, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local-lvm:8,mp=/srv"}}, false, st)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Errors["mp1"] != "unable to apply pending change mp1 : no space left\n" {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("unusedN still used by a snapshot is dropped but not freed", func(t *testing.T) {
		f := mustParse(t, baseConf+"\n[ss]\nmemory: 512\nmp0: local-lvm:vm-100-disk-5,mp=/data\nrootfs: local-lvm:vm-100-disk-0,size=8G\nsnaptime: 1\n")
		st := &fakeStorage{vmid: 100}
		if _, err := f.ApplyUpdate(Update{VMID: 100, Delete: []string{"unused0"}}, false, st); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Get("unused0"); ok || len(st.freed) != 0 {
			t.Errorf("unused0 present=%v freed=%v", ok, st.freed)
		}
	})
}

func TestUpdateChecks(t *testing.T) {
	tests := []struct {
		name    string
		conf    string
		u       Update
		param   map[string]string // *ParamError
		plain   string            // plain error
		locked  string
		warning string
	}{
		{name: "no options", u: Update{}, plain: "no options specified"},
		{name: "locked", conf: "lock: backup\n", u: Update{Set: map[string]string{"memory": "1024"}}, locked: "backup"},
		{name: "digest mismatch", u: Update{Digest: "0000000000000000000000000000000000000000", Set: map[string]string{"memory": "1024"}},
			plain: "detected modified configuration - file changed by other user? Try again."},
		{name: "set unknown key", u: Update{Set: map[string]string{"memroy": "1"}},
			param: map[string]string{"memroy": "property is not defined in schema and the schema does not allow additional properties"}},
		{name: "set parent", u: Update{Set: map[string]string{"parent": "x"}},
			param: map[string]string{"parent": "property is not defined in schema and the schema does not allow additional properties"}},
		{name: "delete unknown", u: Update{Delete: []string{"memroy"}}, param: map[string]string{"delete": "unknown option 'memroy'"}},
		{name: "delete forced is unknown for CTs", u: Update{Delete: []string{"!swap"}}, param: map[string]string{"delete": "unknown option '!swap'"}},
		{name: "revert unknown", u: Update{Revert: []string{"memroy"}}, param: map[string]string{"revert": "unknown option 'memroy'"}},
		{name: "delete and set", u: Update{Delete: []string{"swap"}, Set: map[string]string{"swap": "1"}},
			param: map[string]string{"delete": "you can't use '-swap' and -delete swap' at the same time"}},
		{name: "revert and set", u: Update{Revert: []string{"swap"}, Set: map[string]string{"swap": "1"}},
			param: map[string]string{"revert": "you can't use '-swap' and '-revert swap' at the same time"}},
		{name: "delete and revert", u: Update{Delete: []string{"swap"}, Revert: []string{"swap"}},
			param: map[string]string{"delete": "you can't use '-delete swap' and '-revert swap' at the same time"}},
		{name: "delete memory", u: Update{Delete: []string{"memory"}}, plain: "unable to delete required option 'memory'"},
		{name: "delete rootfs", u: Update{Delete: []string{"rootfs"}}, plain: "unable to delete required option 'rootfs'"},
		{name: "delete ostype", u: Update{Delete: []string{"ostype"}}, plain: "unable to delete required option 'ostype'"},
		{name: "delete unprivileged", conf: "unprivileged: 1\n", u: Update{Delete: []string{"unprivileged"}},
			plain: "unable to delete read-only option: 'unprivileged'"},
		{name: "set unprivileged", u: Update{Set: map[string]string{"unprivileged": "0"}},
			plain: "unable to modify read-only option: 'unprivileged'"},
		{name: "protection blocks delete mp", conf: "protection: 1\n", u: Update{Delete: []string{"mp0"}},
			plain: "can't remove CT 100 drive 'mp0' - protection mode enabled"},
		{name: "protection blocks delete unused", conf: "protection: 1\n", u: Update{Delete: []string{"unused0"}},
			plain: "can't remove CT 100 drive 'unused0' - protection mode enabled"},
		{name: "protection blocks set mp", conf: "protection: 1\n", u: Update{Set: map[string]string{"mp1": "local-lvm:1,mp=/x"}},
			plain: "can't update CT 100 drive 'mp1' - protection mode enabled"},
		{name: "protection blocks set rootfs", conf: "protection: 1\n", u: Update{Set: map[string]string{"rootfs": "local-lvm:vm-100-disk-0,size=8G,ro=1"}},
			plain: "can't update CT 100 drive 'rootfs' - protection mode enabled"},
		{name: "protection allows other keys", conf: "protection: 1\n", u: Update{Set: map[string]string{"memory": "1024"}}},
		{name: "delete of unset key only warns", u: Update{Delete: []string{"cpulimit"}},
			warning: "cannot delete 'cpulimit' - not set in current configuration!"},
		{name: "delete of unset required key only warns", conf: "", u: Update{Delete: []string{"timezone"}},
			warning: "cannot delete 'timezone' - not set in current configuration!"},
		{name: "SLAAC with host-managed", u: Update{Set: map[string]string{"net1": "name=eth1,host-managed=1,ip6=auto"}},
			plain: "net1: SLAAC is not supported for host-managed network configuration."},
		{name: "volume id without storage", u: Update{Set: map[string]string{"mp1": "justaname,mp=/x"}},
			plain: "unable to parse volume ID 'justaname'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, baseConf+tc.conf)
			before := string(f.Bytes())
			tc.u.VMID = 100
			res, err := f.ApplyUpdate(tc.u, true, &fakeStorage{vmid: 100})
			var pe *ParamError
			var le *LockedError
			switch {
			case tc.param != nil:
				if !errors.As(err, &pe) || !reflect.DeepEqual(pe.Errors, tc.param) {
					t.Fatalf("err = %v, want param errors %v", err, tc.param)
				}
			case tc.locked != "":
				if !errors.As(err, &le) || le.Lock != tc.locked || err.Error() != "CT is locked ("+tc.locked+")" {
					t.Fatalf("err = %v, want locked %s", err, tc.locked)
				}
			case tc.plain != "":
				if err == nil || errors.As(err, &pe) || err.Error() != tc.plain {
					t.Fatalf("err = %v, want %q", err, tc.plain)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if tc.warning != "" && !reflect.DeepEqual(res.Warnings, []string{tc.warning}) {
					t.Errorf("warnings %q", res.Warnings)
				}
				return
			}
			if string(f.Bytes()) != before {
				t.Errorf("failed update changed the file:\n%s", f.Bytes())
			}
		})
	}
}

func TestUpdatePendingBookkeeping(t *testing.T) {
	const withPending = baseConf + "\n[pve:pending]\ndelete: swap\nhostname: queued\nnameserver: 8.8.8.8\nostype: ubuntu\n"
	tests := []struct {
		name    string
		conf    string
		u       Update
		running bool
		want    string // the whole file after
	}{
		{
			name: "revert drops a pending value and a pending delete",
			conf: withPending, running: true,
			u:    Update{Revert: []string{"nameserver", "swap"}},
			want: strings.TrimSuffix(baseConf, "") + "\n[pve:pending]\nhostname: queued\nostype: ubuntu\n",
		},
		{
			name: "older pending entries stay pending on a stopped CT",
			conf: withPending, running: false,
			u:    Update{Set: map[string]string{"cores": "2"}},
			want: strings.Replace(baseConf, "cores: 1", "cores: 2", 1) + "\n[pve:pending]\ndelete: swap\nhostname: queued\nnameserver: 8.8.8.8\nostype: ubuntu\n",
		},
		{
			name: "setting the current value removes the pending one (cleanup_pending)",
			conf: withPending, running: true,
			u:    Update{Set: map[string]string{"ostype": "debian"}},
			want: baseConf + "\n[pve:pending]\ndelete: swap\nhostname: queued\nnameserver: 8.8.8.8\n",
		},
		{
			name: "setting a key removes its pending delete",
			conf: withPending, running: false,
			u:    Update{Set: map[string]string{"swap": "256"}},
			want: strings.Replace(baseConf, "swap: 512", "swap: 256", 1) + "\n[pve:pending]\nhostname: queued\nnameserver: 8.8.8.8\nostype: ubuntu\n",
		},
		{
			name: "touching a fastplug key applies only that key",
			conf: withPending, running: true,
			u:    Update{Set: map[string]string{"onboot": "1"}},
			want: strings.Replace(baseConf, "ostype: debian", "onboot: 1\nostype: debian", 1) + "\n[pve:pending]\ndelete: swap\nhostname: queued\nnameserver: 8.8.8.8\nostype: ubuntu\n",
		},
		{
			name: "re-setting a queued hostname on a running CT applies it",
			conf: withPending, running: true,
			u:    Update{Set: map[string]string{"hostname": "queued"}},
			want: strings.Replace(baseConf, "hostname: ct100", "hostname: queued", 1) + "\n[pve:pending]\ndelete: swap\nnameserver: 8.8.8.8\nostype: ubuntu\n",
		},
		{
			name: "tags and nameserver are normalised",
			conf: "", running: true,
			u:    Update{Set: map[string]string{"tags": "Web;db,web", "nameserver": "1.1.1.1, 8.8.8.8"}},
			want: strings.Replace(baseConf, "swap: 512", "swap: 512\ntags: db;web", 1) + "\n[pve:pending]\nnameserver: 1.1.1.1 8.8.8.8\n",
		},
		{
			name: "a new net gets type and hwaddr and PVE's key order",
			conf: "", running: true,
			u:    Update{Set: map[string]string{"net1": "bridge=vmbr1,name=eth1,ip=dhcp"}},
			want: strings.Replace(baseConf, "ostype", "net1: name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth\nostype", 1),
		},
		{
			name: "delete of a key set only in pending leaves the pending value (cleanup_pending drops the delete)",
			conf: "\n[pve:pending]\ntimezone: UTC\n", running: true,
			u:    Update{Delete: []string{"timezone"}},
			want: baseConf + "\n[pve:pending]\ntimezone: UTC\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := tc.conf
			if !strings.HasPrefix(conf, baseConf) {
				conf = baseConf + conf
			}
			f := mustParse(t, conf)
			tc.u.VMID = 100
			if _, err := f.ApplyUpdate(tc.u, tc.running, &fakeStorage{vmid: 100}); err != nil {
				t.Fatal(err)
			}
			checkBytes(t, f, tc.want)
		})
	}
}

func TestApplyPending(t *testing.T) {
	f := mustParse(t, baseConf+"\n[pve:pending]\ndelete: mp0,swap\nhostname: queued\nmp1: local-lvm:1,mp=/new\nnameserver: 8.8.8.8\n")
	st := &fakeStorage{vmid: 100}
	res, err := f.ApplyPending(st)
	if err != nil {
		t.Fatal(err)
	}
	want := "arch: amd64\ncores: 1\nhostname: queued\nmemory: 512\n" +
		"mp1: local-lvm:vm-100-disk-11,mp=/new,size=1G\n" +
		"nameserver: 8.8.8.8\n" +
		"net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth\n" +
		"ostype: debian\nrootfs: local-lvm:vm-100-disk-0,size=8G\n" +
		"unused0: local-lvm:vm-100-disk-5\nunused1: local-lvm:vm-100-disk-1\n"
	checkBytes(t, f, want)
	sort.Strings(res.Applied)
	if !reflect.DeepEqual(res.Applied, []string{"hostname", "mp0", "mp1", "nameserver", "swap"}) || res.NeedsRestart() {
		t.Errorf("result %+v", res)
	}

	// A failing change stays pending and is reported as a warning.
	g := mustParse(t, baseConf+"\n[pve:pending]\nmp1: local-lvm:1,mp=/new\nswap: 0\n")
	res, err = g.ApplyPending(&fakeStorage{vmid: 100, failNext: errors.New("no space left")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Warnings, []string{"unable to apply pending change mp1 : no space left\n"}) ||
		!reflect.DeepEqual(res.Pending, []string{"mp1"}) {
		t.Errorf("result %+v", res)
	}
	if v, _ := g.Get("swap"); v != "0" {
		t.Errorf("swap not applied: %s", g.Bytes())
	}
}

func TestPendingEntries(t *testing.T) {
	text := "#about\nmemory: 512\nonboot: 0\nswap: 512\nlxc.apparmor.profile: unconfined\n" +
		"\n[pve:pending]\ncores: 2\ndelete: onboot,!swap,timezone\nmemory: 1024\n" +
		"\n[snap]\nmemory: 1\nsnaptime: 1\n"
	f := mustParse(t, text)
	got := f.PendingEntries()
	want := []PendingEntry{
		{Key: "cores", Pending: "2", HasPending: true},
		{Key: "description", Value: "about\n", HasValue: true},
		{Key: "digest", Value: Digest([]byte(text)), HasValue: true},
		{Key: "memory", Value: "512", HasValue: true, Pending: "1024", HasPending: true},
		{Key: "onboot", Value: "0", HasValue: true, Delete: 1},
		{Key: "swap", Value: "512", HasValue: true, Delete: 2},
		{Key: "timezone", Delete: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PendingEntries:\n%+v\nwant\n%+v", got, want)
	}

	merged := f.Merged()
	wantMerged := map[string]string{
		"description": "about\n", "digest": Digest([]byte(text)), "memory": "1024", "cores": "2",
		// load_current_config deletes only keys whose value is true in Perl.
		"onboot": "0",
	}
	if !reflect.DeepEqual(merged, wantMerged) {
		t.Errorf("Merged = %v, want %v", merged, wantMerged)
	}
	cur := f.Current()
	if cur["memory"] != "512" || cur["swap"] != "512" || cur["digest"] == "" || len(cur) != 5 {
		t.Errorf("Current = %v", cur)
	}
}

func TestHotPluggableTable(t *testing.T) {
	f := mustParse(t, baseConf+"dev0: /dev/ttyUSB0\n")
	tests := []struct {
		key string
		hot bool
	}{
		{"mp0", false}, {"mp1", true}, {"dev0", false}, {"dev1", true}, {"net0", true}, {"net31", true},
		{"net32", false}, {"rootfs", false}, {"unprivileged", false}, {"unused0", false}, {"bogus", false},
	}
	for _, tc := range tests {
		if got := HotPluggable(tc.key, f); got != tc.hot {
			t.Errorf("HotPluggable(%s) = %v, want %v", tc.key, got, tc.hot)
		}
	}
	if !HotPluggable("mp0", nil) {
		t.Errorf("HotPluggable(mp0, nil) = false")
	}
	for key, want := range map[string]bool{"net9": true, "net10": false, "unused255": true, "unused256": false, "mp0": false, "memory": false, "lock": true} {
		if got := DeleteHotPluggable(key); got != want {
			t.Errorf("DeleteHotPluggable(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestUpdateNonVolumeMounts(t *testing.T) {
	t.Run("bind mount hot-plugged on a running CT as given", func(t *testing.T) {
		f := mustParse(t, baseConf)
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "/srv/share,mp=/share,ro=1"}}, true, &fakeStorage{vmid: 100}); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("mp1"); v != "/srv/share,mp=/share,ro=1" {
			t.Errorf("mp1 = %q", v)
		}
	})
	t.Run("deleting a device mount keeps nothing", func(t *testing.T) {
		f := mustParse(t, baseConf+"mp1: /dev/sdb1,mp=/disk\n")
		if _, err := f.ApplyUpdate(Update{VMID: 100, Delete: []string{"mp1"}}, false, &fakeStorage{vmid: 100}); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Get("mp1"); ok {
			t.Errorf("mp1 still set")
		}
		if _, ok := f.Get("unused1"); ok {
			t.Errorf("a device became unusedN:\n%s", f.Bytes())
		}
	})
	t.Run("a new rootfs value is copied as given on a stopped CT", func(t *testing.T) {
		f := mustParse(t, baseConf)
		st := &fakeStorage{vmid: 100}
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"rootfs": "local-lvm:16"}}, false, st); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.Get("rootfs"); v != "local-lvm:16" || st.next != 0 {
			t.Errorf("rootfs = %q, allocations %d", v, st.next)
		}
	})
	t.Run("without an allocator a new volume is an apply error", func(t *testing.T) {
		f := mustParse(t, baseConf)
		_, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"mp1": "local-lvm:1,mp=/x"}}, false, nil)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Errors["mp1"] != "unable to apply pending change mp1 : no volume allocator\n" {
			t.Fatalf("err = %v", err)
		}
		if err.Error() != "parameter verification failed: mp1: unable to apply pending change mp1 : no volume allocator" {
			t.Errorf("Error() = %q", err.Error())
		}
	})
}

// TestStableMAC: without a MACGenerator a new netN gets the same address
// for the same input, under Proxmox's prefix.
func TestStableMAC(t *testing.T) {
	mac := func() string {
		f := mustParse(t, baseConf)
		if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"net1": "name=eth1,bridge=vmbr0"}}, false, nil); err != nil {
			t.Fatal(err)
		}
		v, _ := f.Get("net1")
		return v
	}
	a, b := mac(), mac()
	if a != b || !strings.HasPrefix(a, "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:") || !strings.HasSuffix(a, ",type=veth") {
		t.Errorf("net1 = %q then %q", a, b)
	}
}

func TestCPUUnitsClamped(t *testing.T) {
	f := mustParse(t, baseConf)
	if _, err := f.ApplyUpdate(Update{VMID: 100, Set: map[string]string{"cpuunits": "500000"}}, true, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Get("cpuunits"); v != "10000" {
		t.Errorf("cpuunits = %q, want 10000", v)
	}
	if ClampCPUUnits("9999") != "9999" || ClampCPUUnits("10000") != "10000" {
		t.Errorf("ClampCPUUnits wrong at the edge")
	}
}

func TestPendingDeleteParse(t *testing.T) {
	// parse_pending_delete: a Perl-false line is no list; NUL bytes do not
	// split (no split_list NUL branch); the last entry of a key wins.
	for line, want := range map[string][]PendingDelete{
		"0":                 {},
		"swap;!swap cores":  {{Key: "cores"}, {Key: "swap", Force: true}},
		"!swap,swap":        {{Key: "swap"}},
		"a\x00b,\vtimezone": {{Key: "a\x00b"}, {Key: "timezone"}},
	} {
		f := mustParse(t, "memory: 512\n")
		f.pending().values["delete"] = line
		if got := f.PendingDeletes(); !reflect.DeepEqual(got, want) {
			t.Errorf("delete %q: PendingDeletes = %v, want %v", line, got, want)
		}
	}
}
