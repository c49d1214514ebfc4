// Package benchcluster builds the cluster the benchmarks plan and apply:
// n containers spread over a number of nodes on lvmthin, the felhom user
// and token of examples/sim/inventory.yaml, and spec files matching the
// containers but for the memory each is given. reconcile's in-process
// benchmarks and cmd/felhom's end-to-end benchmark share it, so their
// figures are of one cluster.
package benchcluster

import (
	"fmt"
	"strings"

	"github.com/felhom/felhom/pve/pvesim"
)

// TokenID is the API token the cluster's felhom user holds.
const TokenID = "felhom@pve!reconcile"

// Cluster says what to build.
type Cluster struct {
	// N is the number of containers, vmids 1000 to 1000+N-1.
	N int
	// Nodes is the number of nodes, pve1 to pveNodes.
	Nodes int
	// Grouped places the containers in blocks of consecutive vmids per
	// node (1000-1333 on pve1, ...), as clusters usually grow; otherwise
	// container i is on node i mod Nodes.
	Grouped bool
	// Running says which containers run (nil: all).
	Running func(i int) bool
	// Memory is container i's memory in its spec (nil: "1G", the
	// container's own 1024 MiB).
	Memory func(i int) string
}

// Node is the name of container i's node.
func (c Cluster) Node(i int) string {
	if c.Grouped {
		per := (c.N + c.Nodes - 1) / c.Nodes
		return fmt.Sprintf("pve%d", i/per+1)
	}
	return fmt.Sprintf("pve%d", i%c.Nodes+1)
}

// Build returns the inventory and the spec files (file name to YAML).
func (c Cluster) Build() (*pvesim.Inventory, map[string]string) {
	inv := pvesim.NewInventory("bench")
	for i := range c.Nodes {
		inv.AddNode(fmt.Sprintf("pve%d", i+1)).AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	}
	inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreAdmin"),
		pvesim.Role("/nodes", "PVEAuditor"), pvesim.Role("/sdn/zones/localnetwork", "PVESDNUser")).
		AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	files := make(map[string]string, c.N)
	for i := range c.N {
		vmid := 1000 + i
		running := c.Running == nil || c.Running(i)
		inv.Node(c.Node(i)).AddContainer(vmid, running, Config(vmid))
		mem := "1G"
		if c.Memory != nil {
			mem = c.Memory(i)
		}
		files[fmt.Sprintf("ct%d.yaml", vmid)] = Spec(fmt.Sprintf("ct%d", vmid), c.Node(i), vmid,
			"memory: "+mem+"\nswap: 512M\ncores: 2\nnet:\n  net0:\n    name: eth0\n    bridge: vmbr0\n    ip: dhcp\nrootfs:\n  storage: local-lvm\n  size: 8G\n")
	}
	return inv, files
}

// Config is the config file of the cluster's container vmid: 1 GiB of
// memory, 512 MiB of swap, 2 cores, one DHCP NIC, an 8 GiB root volume on
// local-lvm.
func Config(vmid int) string {
	return fmt.Sprintf(`arch: amd64
cores: 2
hostname: ct%d
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:%02X:%02X,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-%d-disk-0,size=8G
swap: 512
unprivileged: 1
`, vmid, vmid/256%256, vmid%256, vmid)
}

// Spec is one container spec file: name, node, vmid and the body under
// spec: (YAML, indented by two spaces here).
func Spec(name, node string, vmid int, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: %s\nspec:\n  node: %s\n  vmid: %d\n", name, node, vmid)
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if line != "" {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}
