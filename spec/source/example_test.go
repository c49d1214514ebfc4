package source_test

import (
	"fmt"

	"github.com/felhom/felhom/spec/source"
)

// A git source with every option: the daemon configuration's source:
// section reads the same way.
func ExampleParseConfig() {
	cfg, err := source.ParseConfig([]byte(`
git:
  url: ssh://git@git.example.net/ops/cluster.git
  branch: main                  # or tag: v12, or commit: <40 hex digits>
  path: clusters/home           # the spec folder inside the repository
  interval: 1m                  # a webhook fetches sooner
  timeout: 2m
  ssh_key_file: /etc/felhom/deploy_key
  known_hosts_file: /etc/felhom/known_hosts
  verify:                       # refuse a head commit not signed by these
    openpgp_keyring_file: /etc/felhom/release-keys.asc
    ssh_keys_file: /etc/felhom/allowed_signers
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Validate(), cfg.Git.Branch, cfg.Git.Path, cfg.Git.Interval)
	_, err = source.ParseConfig([]byte("dir:\n  path: /srv/specs\n  quite: 1s\n"))
	fmt.Println(err)
	// Output:
	// <nil> main clusters/home 1m0s
	// source dir (line 3): unknown key "quite" (known: path, quiet, resync)
}
