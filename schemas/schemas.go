// Package schemas embeds the JSON Schemas of felhom's spec files so that the
// spec package validates with the very file editors use. It holds data only.
package schemas

import _ "embed"

// ContainerSchemaID is the $id of container.schema.json.
const ContainerSchemaID = "https://felhom.dev/schemas/container.schema.json"

// Container is schemas/container.schema.json: the schema of every spec
// document (kind: Container and kind: Defaults).
//
//go:embed container.schema.json
var Container []byte
