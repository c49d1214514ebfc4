package plan

import (
	"errors"
	"strings"
	"testing"
)

// A saved plan's create step is input too: each breach of RuleCreate is
// refused, naming it.
func TestCheckSafetyCreate(t *testing.T) {
	good := func() ContainerPlan {
		return ContainerPlan{VMID: 130, Status: StatusChanges, Steps: []Step{
			{Action: ActionCreate, Params: map[string]string{"vmid": "130", "ostemplate": "local:vztmpl/debian.tar.zst", "password-file": "/etc/p"}},
			{Action: ActionSetConfig, Params: map[string]string{"memory": "1024"}},
		}}
	}
	if c := good(); c.CheckSafety() != nil {
		t.Fatalf("good plan refused: %v", c.CheckSafety())
	}
	for name, tc := range map[string]struct {
		edit func(c *ContainerPlan)
		want string
	}{
		"password":     {func(c *ContainerPlan) { c.Steps[0].Params["password"] = "x" }, "a password in a plan"},
		"force":        {func(c *ContainerPlan) { c.Steps[0].Params["force"] = "1" }, "force would overwrite"},
		"start":        {func(c *ContainerPlan) { c.Steps[0].Params["start"] = "1" }, "a task the create does not wait for"},
		"other vmid":   {func(c *ContainerPlan) { c.Steps[0].Params["vmid"] = "131" }, `of vmid "131"`},
		"had config":   {func(c *ContainerPlan) { c.Digest = "abc" }, "had a config"},
		"no template":  {func(c *ContainerPlan) { delete(c.Steps[0].Params, "ostemplate") }, "no ostemplate"},
		"restore flag": {func(c *ContainerPlan) { c.Steps[0].Params["restore"] = "1" }, "restore=\"1\" on a create step"},
		"snapshot after": {func(c *ContainerPlan) {
			c.Steps = append(c.Steps[:1], Step{Action: ActionSnapshotPrune, Params: map[string]string{"snapname": "felhom-20261201T000000Z-abc"}})
		}, "nothing to protect, restart or prune"},
		"second create": {func(c *ContainerPlan) { c.Steps = append(c.Steps[:1], c.Steps[0]) }, "not the first step"},
	} {
		c := good()
		tc.edit(&c)
		err := c.CheckSafety()
		var se *SafetyError
		if !errors.As(err, &se) || se.Rule != RuleCreate || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q under %q", name, err, tc.want, RuleCreate)
		}
	}
}
