// Package source owns where the daemon's specs come from: a directory
// watched with fsnotify or a git repository fetched with go-git, each
// yielding revisions (an id and an immutable fs.FS of the spec tree), and
// the webhook that wakes a source early.
//
// This is an edge of felhom: it reads folders, keeps a clone in a state
// folder and speaks git over the network. It does not parse or validate
// specs beyond naming a directory's content (spec.ContentRevision), and it
// knows nothing of PVE or of the loop that consumes it: the loop calls
// Fetch, runs Run, and fetches again when Changed fires.
//
// A revision's FS is a snapshot held in memory, so the files the loop reads
// are the ones its id names, however the folder or the branch moves on.
package source
