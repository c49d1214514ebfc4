// Package result is what apply did, as data: the outcome of each container
// with its steps, tasks and failure kind, and the progress events apply
// reports while it works. reconcile fills these values (and re-exports them
// under the same names); reconcile/render draws them for people and
// machines; a daemon counts them. Like reconcile/plan it is pure: no I/O,
// no decisions.
package result
