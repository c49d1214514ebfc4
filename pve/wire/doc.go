// Package wire holds the values of PVE's API as felhom reads and sends them:
// the answers of the reads (ConfigValues, PendingConfig, TaskStatus, ...),
// the requests of the writes (ConfigChange, VzdumpOptions, ...), UPIDs, and
// the lenient JSON decoding PVE's loosely typed answers need.
//
// It is pure: it speaks no HTTP (package pve does, and re-exports these
// types under the same names) and runs no process, so the privileged backend
// can use them too. A fence test keeps it that way.
package wire
