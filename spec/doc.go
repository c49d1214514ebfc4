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
// The design notes (sources, details, what is not modelled) are in README.md
// beside this file.
package spec
