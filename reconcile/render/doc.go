// Package render prints a plan for people and machines: Text (terraform-like,
// optionally coloured), JSON (the plan as it is, the machine contract
// documented in reconcile/plan/FORMAT.md) and Markdown (a pull-request
// comment that a bot can find and update by its first line, MarkdownMarker);
// and Describe, a container's plan as the felhom snapshot's description.
//
// It prints apply's result the same ways (ResultText, ResultJSON,
// ResultMarkdown for notifications) and as log records (ResultLog,
// LogResult), and shows apply's progress events (TerminalProgress redraws
// one line per container; LogProgress logs each event).
//
// A change whose before and after would look the same to a person (they
// differ only in surrounding or repeated whitespace, or in characters that
// print as nothing, such as a zero-width space) is shown with both values
// quoted as Go's %q quotes them, in text and Markdown alike, so it is not
// mistaken for no change.
//
// Renderers see only plan and result data (reconcile/plan, reconcile/result):
// they never observe PVE, read specs or decide anything; the same plan or
// result always renders to the same bytes (the progress display alone reads
// the clock, for elapsed times). Whether to use
// colour is the caller's decision (cmd checks for a terminal and NO_COLOR).
package render
