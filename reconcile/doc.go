// Package reconcile reads live state from PVE (Observe), turns it and the
// specs into a plan (Plan, with diff.Build and Preflight) and carries a plan
// out (Apply) under the safety rules of DESIGN.md ("Apply: the safety
// rules"). It declares the narrow interface it consumes (API, the subset of
// *pve.Client it calls) and a Clock, so the real client, the simulator and
// test fakes all serve.
//
// Drift needs to know what felhom last applied, and PVE keeps it: in the
// description of the felhom snapshot (README.md, "Drift: the baseline in the
// felhom snapshot").
//
// It does not parse specs (spec), compare values (reconcile/diff), hold plan
// or result data (reconcile/plan, reconcile/result) or print them
// (reconcile/render), and it never runs a process. It decides nothing from Change.Reason: apply executes Steps.
//
// How Observe keeps to the fewest calls, the restart window's time zone and
// how Apply keeps each safety rule: README.md beside this file.
package reconcile
