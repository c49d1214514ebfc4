// Package plan holds felhom's plan as pure data: what felhom found different
// between the desired spec and the live container (Change), what it will do
// about it, step by step (Step), and per container the digest, privileges and
// reasons that gate those steps (ContainerPlan).
//
// The plan is the contract between plan and apply, and between felhom and
// machines: its JSON form (snake_case keys, FormatVersion "1") is documented
// field by field in FORMAT.md beside this file. Apply executes a
// ContainerPlan's Steps in their order and decides nothing from Change.Reason,
// which is for humans only (as terraform's ActionReason).
//
// This package does no I/O, does not talk to PVE, takes from the spec only
// its policy vocabulary (spec.OnFailure) and does not render: diff builds plans, render prints them, apply
// executes them. Ordering is one documented key per kind (ContainerLess,
// StepLess), so the same inputs always give the same plan.
package plan
