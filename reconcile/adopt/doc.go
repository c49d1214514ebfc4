// Package adopt turns a live container's config into a felhom spec
// document, for felhom import: every value the spec knows, in the spec's
// canonical forms (sizes with units, structured networks and mount points,
// PVE's key names), so that planning the document against the container it
// came from plans no change. What the spec cannot manage, and what PVE does
// not give back (the root password, SSH keys, the template the container
// was made from), is named in comments at the top of the document.
//
// It is pure: the caller reads the config (GET .../pending) and writes the
// file.
package adopt
