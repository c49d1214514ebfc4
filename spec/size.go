package spec

import "time"

// Sizes in specs are format.Size values (bytes). Specs write them as a number
// with a unit ("512M", "2G", "2GiB"; K/M/G/T are powers of 1024 as in PVE); a
// plain number takes the unit of its field, named by the `unit` struct tag:
// MiB for memory and swap, GiB for volume sizes, as PVE does.

// String renders the duration in Go syntax, e.g. "2h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }
