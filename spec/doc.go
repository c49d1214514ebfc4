// Package spec owns felhom's desired state: the types of the YAML spec files
// (kind: Container and kind: Defaults, apiVersion felhom/v1alpha1), their
// parsing, defaults, validation against schemas/container.schema.json plus
// the checks a schema cannot express, and diagnostics that point at
// file:line:column.
//
// It is pure: Load reads only the fs.FS it is handed, Parse only its bytes.
// It never talks to PVE and knows nothing of live state; the reconcile
// package compares these types with what PVE reports. It must not grow
// knowledge of a particular cluster (which storages exist, which vmids are
// taken): that is for plan time.
//
// # The format
//
// Key names are PVE's option names and property-string keys (memory,
// cpulimit, onboot, startup.order, features.force_rw_sys, net0.link_down,
// mp0.mountoptions, ...). Property strings become mappings; ;-joined values
// (tags, trunks, mountoptions, features.mount) become lists. Network
// interfaces are grouped under net: and mount points under mountpoints:,
// keyed by their PVE slot (net0..net31, mp0..mp255; pve-container
// src/PVE/LXC/Config.pm $MAX_LXC_NETWORKS = 32 and $MAX_MOUNT_POINTS = 256):
// the slot is the one `pct config` prints, and grouping lets the schema
// check slot names and editors complete them. A mount point names exactly
// one source: storage (+ size) for a new volume, volume for an existing one,
// bind for a host folder, device for a host device.
//
// Sizes are format.Size (bytes). A plain number takes the field's unit, as
// PVE does: MiB for memory and swap, GiB for rootfs and mount point sizes
// (the `unit` struct tag); a number with a unit goes through
// format.ParseSize (K/M/G/T and KiB..TiB, powers of 1024).
//
// A nil pointer, slice or map means "not managed": felhom leaves that PVE
// option alone. `tags: []` is an empty, non-nil list: no tags. A key written
// with no value ("memory:") is dropped with a warning.
//
// After Load these are always set: Hostname (metadata.name), Snapshot
// (before-change true, when-impossible refuse, keep DefaultSnapshotKeep,
// on-failure rollback),
// Restart.Mode (never, or window when only a window is given) and Drift
// (revert). Parse returns documents as written, without them.
//
// # Defaults
//
// A kind: Defaults document applies to the containers in its folder and
// every folder below; nearer folders win, a container's own values win over
// all. Its spec and metadata.labels are inherited: mappings merge key by
// key, lists and backup.retention are replaced whole (keep- options only make
// sense together), and "key: null" in a container drops an inherited value.
// A folder has at most one Defaults document, which may not set vmid or
// hostname. Folders above the loaded root are not consulted. LoadFile checks
// one file as Load would see it within its tree: the Defaults of its folder
// and those above apply; checks across files do not.
//
// # Validation
//
// Every document is checked against the embedded JSON Schema (draft
// 2020-12, santhosh-tekuri/jsonschema/v5) by its kind; each validation error
// is turned into a diagnostic at the YAML position of its instance location
// (yaml.v3 node positions, kept through alias expansion and defaults merging,
// so a mistake in a Defaults file is reported there, once). Unknown keys
// get "did you mean" by edit distance against the keys the schema allows at
// that place. A value a pattern refuses is told the rule in words (the
// schema's patternErrorMessage next to each pattern, which editors show too)
// and, when one is obvious, a corrected value (lower-cased, '_' and ' ' as
// '-', '-' as ':' in a MAC address). Values the schema rejected are skipped when decoding, so each
// mistake is reported once and the semantic checks still run on the rest:
// sizes (whole MiB for memory, at least 16 MiB), calendar events
// (pve/calendar; a never-firing event is a warning), durations, IP
// addresses in CIDR form or PVE's keywords (dhcp/manual, and auto for IPv6),
// unicast MAC addresses (pve-common PVE::JSONSchema pve_verify_mac_addr),
// mount paths (absolute, no "..", not "/", not twice), mount sources
// (exactly one), a volume mounted twice, keep-all with other keep- options,
// a restart window without mode window, when-impossible: vzdump without a
// backup storage, duplicate keys and slots, and across files duplicate vmids
// and names. Tag and storage-id patterns are PVE's pve-tag and
// pve-storage-id formats (pve-common PVE/JSONSchema.pm).
//
// # Limits
//
// A hostile or broken file costs a quick error, never a crash or a hang:
// MaxFileSize bytes per file (checked before reading), MaxDocuments per
// file (splitting stops at the first document past it), MaxDepth levels of nesting, MaxNodes values per document and
// MaxFileNodes per file after alias expansion (a "billion laughs" stops
// there; repeated keys count too), alias cycles, MaxFiles per tree, and
// MaxDiagnosticsPerFile (the rest are counted in one last diagnostic). yaml.v3 itself refuses flow
// nesting beyond 10000 levels. A panic inside yaml.v3 becomes a diagnostic.
// Documents are split on "---" lines before parsing, so a syntax error costs
// only its own document. The work stays linear in the input: the split is
// one pass, mappings of many keys are indexed for lookups and Defaults
// merging, and "did you mean" skips keys whose length rules them out
// (limits_test.go counts the work; BenchmarkParseManyDocuments measures it).
package spec
