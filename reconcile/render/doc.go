// Package render prints a plan for people and machines: Text (terraform-like,
// optionally coloured), JSON (the plan as it is, the machine contract
// documented in reconcile/plan/FORMAT.md) and Markdown (a pull-request
// comment that a bot can find and update by its first line, MarkdownMarker).
//
// A change whose before and after would look the same to a person (they
// differ only in surrounding or repeated whitespace, or in characters that
// print as nothing, such as a zero-width space) is shown with both values
// quoted as Go's %q quotes them, in text and Markdown alike, so it is not
// mistaken for no change.
//
// Renderers see only plan data: they never observe PVE, read specs or decide
// anything; the same plan always renders to the same bytes. Whether to use
// colour is the caller's decision (cmd checks for a terminal and NO_COLOR).
package render
