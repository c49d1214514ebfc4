package spec

// createChecks are the rules of the create section a schema cannot say
// well: exactly one source, what only a template takes, and what a create
// needs from the rest of the spec (a resolved Container only: Defaults may
// supply any part of it).
func (c *checker) createChecks(d *Document) {
	cr := d.Spec.Create
	if cr == nil || d.Kind != KindContainer || c.skip["/spec/create"] {
		return
	}
	const base = "/spec/create"
	switch {
	case cr.OSTemplate == "" && cr.Restore == nil && !c.skipAny(base, "ostemplate", "restore"):
		c.errorf(base, "add ostemplate: local:vztmpl/NAME, or restore: {volid: STORAGE:backup/NAME}", "create: say what to create the container from: ostemplate or restore")
	case cr.OSTemplate != "" && cr.Restore != nil:
		c.errorf(base+"/restore", "keep one of them", "create: ostemplate and restore cannot be combined")
	}
	if r := cr.Restore; r != nil && !c.skip[base+"/restore"] {
		rb := base + "/restore"
		switch {
		case r.VolID == "" && r.NewestBackupOf == 0 && !c.skipAny(rb, "volid", "newest-backup-of"):
			c.errorf(rb, "add volid: STORAGE:backup/NAME, or newest-backup-of: VMID with storage: STORAGE", "create.restore: say which backup: volid or newest-backup-of")
		case r.VolID != "" && r.NewestBackupOf != 0:
			c.errorf(rb+"/newest-backup-of", "keep one of them", "create.restore: volid and newest-backup-of cannot be combined")
		case r.NewestBackupOf != 0 && r.Storage == "" && !c.skip[rb+"/storage"]:
			c.errorf(rb+"/newest-backup-of", "add storage: the backup storage to look in", "create.restore.newest-backup-of needs storage")
		case r.VolID != "" && r.Storage != "":
			c.errorf(rb+"/storage", "remove storage: the volid names it", "create.restore.storage is only used with newest-backup-of")
		}
		for _, k := range []string{"arch", "ostype", "password-file", "ssh-public-keys"} {
			if c.has(base + "/" + k) {
				c.errorf(base+"/"+k, "remove it: a restore keeps the backup's, and PVE sets a password and keys only from a template",
					"create.%s applies to a template only, not to a restore", k)
			}
		}
	}
	rootfs := d.Spec.RootFS
	switch {
	case rootfs == nil || rootfs.Storage == "":
		if !c.has("/spec/rootfs") || !c.skip["/spec/rootfs/storage"] {
			c.errorf(base, "add rootfs: {storage: local-lvm, size: 8G}", "create needs rootfs.storage: the storage the new root volume goes to")
		}
	case cr.OSTemplate != "" && rootfs.Size == nil && !c.skip["/spec/rootfs/size"]:
		c.errorf("/spec/rootfs", "add size: 8G (a restore takes the backup's size when it is left out)", "create from a template needs rootfs.size")
	}
}
