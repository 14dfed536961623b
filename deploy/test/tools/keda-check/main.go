// keda-check validates KEDA ScaledObjects offline. No JSON schema for KEDA's CRDs ships in a
// package registry, so it decodes each ScaledObject strictly into KEDA's own Go API types (an
// unknown or misspelled field is an error, as it is for the API server's structural schema), then
// checks what those types cannot: a scale target, at least one trigger, sane replica bounds.
//
// Usage: kustomize build DIR | keda-check. Reads a multi-document YAML stream, ignores every other
// kind, prints one line per ScaledObject, exits 1 on the first invalid one.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	keda "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	checked := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail("reading YAML: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta typeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			fail("reading YAML: %v", err)
		}
		if meta.Kind != "ScaledObject" {
			continue
		}
		if meta.APIVersion != "keda.sh/v1alpha1" {
			fail("ScaledObject: apiVersion %q, want keda.sh/v1alpha1", meta.APIVersion)
		}
		var so keda.ScaledObject
		if err := yaml.UnmarshalStrict(doc, &so); err != nil {
			fail("ScaledObject: %v", err)
		}
		if err := check(&so); err != nil {
			fail("ScaledObject %s: %v", so.Name, err)
		}
		fmt.Printf("valid: ScaledObject %s -> %s, %d trigger(s)\n", so.Name, so.Spec.ScaleTargetRef.Name, len(so.Spec.Triggers))
		checked++
	}
	if checked == 0 {
		fail("no ScaledObject in the input")
	}
}

func check(so *keda.ScaledObject) error {
	if so.Name == "" {
		return errors.New("metadata.name is empty")
	}
	if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name == "" {
		return errors.New("spec.scaleTargetRef.name is empty")
	}
	if len(so.Spec.Triggers) == 0 {
		return errors.New("spec.triggers is empty")
	}
	for i, trigger := range so.Spec.Triggers {
		if trigger.Type == "" {
			return fmt.Errorf("spec.triggers[%d].type is empty", i)
		}
	}
	min, max := so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount
	if min != nil && max != nil && *min > *max {
		return fmt.Errorf("minReplicaCount %d is above maxReplicaCount %d", *min, *max)
	}
	return nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "invalid: "+format+"\n", args...)
	os.Exit(1)
}
