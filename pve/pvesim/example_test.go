package pvesim_test

import (
	"context"
	"fmt"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
)

// Build an inventory in Go, serve it over HTTPS and talk to it with the pve
// client pinned to the simulator's certificate.
func Example() {
	inv := pvesim.NewInventory("lab")
	node := inv.AddNode("pve1")
	node.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
	node.AddStorage("nas", "nfs", "backup")
	node.AddContainer(100, true, "arch: amd64\nhostname: web\nmemory: 1024\nostype: debian\nrootfs: local-lvm:vm-100-disk-0,size=8G\n")
	inv.AddUser("felhom@pve", pvesim.Role("/", "PVEAdmin")).AddToken("ci", "s3cret", false)

	sim, err := pvesim.New(inv)
	if err != nil {
		panic(err)
	}
	srv, err := sim.StartTLS()
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c, err := pve.New(pve.Config{URL: srv.URL, TokenID: "felhom@pve!ci", TokenSecret: "s3cret", Fingerprint: srv.Fingerprint})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := c.SetConfig(ctx, "pve1", 100, pve.ConfigChange{Set: map[string]string{"memory": "2048"}}); err != nil {
		panic(err)
	}
	upid, err := c.CreateSnapshot(ctx, "pve1", 100, "before", "")
	if err != nil {
		panic(err)
	}
	res, err := c.WaitTask(ctx, upid)
	if err != nil {
		panic(err)
	}
	cfg, _ := c.Config(ctx, "pve1", 100, true)
	fmt.Println(res.ExitStatus, cfg["memory"], cfg["parent"])
	fmt.Println(sim.RequestCounts()["PUT /nodes/{node}/lxc/{vmid}/config"])
	// Output:
	// OK 2048 before
	// 1
}
