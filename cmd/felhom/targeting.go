package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/spec"
)

// onlyFlagUsage is the help of --only on plan, apply and backup.
const onlyFlagUsage = "work only on these containers (metadata.name or vmid; repeat or separate with commas)"

// loadTargetSpecs loads the specs plan, apply and backup work on: those
// under the folder at target, or those of the one spec file at target (with
// the Defaults of its folder, as felhom validate FILE reads it), and of
// them only the containers --only names. Invalid specs print their
// diagnostics and exit 3; an --only that names no container is an error
// naming it (exit 3). each, when not nil, gets every container of a
// folder as soon as it is validated (reconcile.LoadEach), to start its
// reads early.
func loadTargetSpecs(stderr io.Writer, target, revision string, only []string, each func(*spec.Container)) (*reconcile.Specs, error) {
	info, err := os.Stat(target)
	if err != nil {
		return nil, withExit(exitInvalid, fmt.Errorf("specs: %w", err))
	}
	var specs *reconcile.Specs
	if info.IsDir() {
		specs, err = loadPlanSpecs(stderr, target, revision, each)
	} else {
		specs, err = loadOneSpecFile(stderr, target, revision)
	}
	if err != nil {
		return nil, err
	}
	return onlySpecs(specs, only)
}

// loadOneSpecFile loads the spec file at file as loadSpecFile does.
func loadOneSpecFile(stderr io.Writer, file, revision string) (*reconcile.Specs, error) {
	if ext := filepath.Ext(file); ext != ".yaml" && ext != ".yml" {
		return nil, withExit(exitInvalid, fmt.Errorf("specs: %s is neither a folder nor a .yaml or .yml spec file", file))
	}
	set, diags := loadSpecFile(file)
	if diags.HasErrors() {
		for _, d := range diags {
			fmt.Fprintln(stderr, d.String())
		}
		return nil, withExit(exitInvalid, fmt.Errorf("spec file %s is invalid (felhom validate %s shows why)", file, file))
	}
	return reconcile.SpecsOf(set, revision)
}

// onlySpecs keeps the containers that only names, by metadata.name or vmid;
// with only empty, all. A name that matches no container is an error.
func onlySpecs(s *reconcile.Specs, only []string) (*reconcile.Specs, error) {
	if len(only) == 0 {
		return s, nil
	}
	keep := make([]bool, len(s.Containers))
	var unknown []string
	for _, n := range only {
		n = strings.TrimSpace(n)
		found := false
		for i, c := range s.Containers {
			if c.Metadata.Name == n || strconv.Itoa(c.Spec.VMID) == n {
				keep[i], found = true, true
			}
		}
		if !found {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) > 0 {
		return nil, withExit(exitInvalid, errors.New("--only "+strings.Join(unknown, ", ")+
			": no spec names a container of that name or vmid (the specs have "+knownContainers(s.Containers)+")"))
	}
	out := &reconcile.Specs{Revision: s.Revision}
	for i, c := range s.Containers {
		if keep[i] {
			out.Containers = append(out.Containers, c)
		}
	}
	return out, nil
}

// targeted reports whether plan or apply works on part of the specs (one
// file or --only): then the containers left out are not "unmanaged".
func targeted(target string, only []string) bool {
	if len(only) > 0 {
		return true
	}
	info, err := os.Stat(target)
	return err == nil && !info.IsDir()
}

// knownContainers names up to ten containers as "web (101), db (201)".
func knownContainers(cs []spec.Container) string {
	if len(cs) == 0 {
		return "none"
	}
	var names []string
	for i, c := range cs {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(cs)-10))
			break
		}
		names = append(names, fmt.Sprintf("%s (%d)", c.Metadata.Name, c.Spec.VMID))
	}
	return strings.Join(names, ", ")
}
