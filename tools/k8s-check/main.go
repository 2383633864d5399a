// Command k8s-check decodes every Kubernetes manifest it is given, strictly, into the Kubernetes API
// types of k8s.io/api: a field the type does not have, a value of the wrong type or an unknown kind
// fails, with the file and document. Offline: no cluster, no schema download.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kinds are the API types the manifests may hold, by apiVersion and kind.
var kinds = map[string]func() any{
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"v1/ServiceAccount":             func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":      func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Secret":                     func() any { return &corev1.Secret{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-check FILE.yaml...")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			failed = true
			continue
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if strings.TrimSpace(stripComments(string(doc))) == "" {
				continue
			}
			if err := check(doc); err != nil {
				fmt.Fprintf(os.Stderr, "%s: document %d: %v\n", file, i+1, err)
				failed = true
			} else {
				fmt.Printf("%s: document %d: ok\n", file, i+1)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(doc []byte) error {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return err
	}
	newObject, ok := kinds[meta.APIVersion+"/"+meta.Kind]
	if !ok {
		return fmt.Errorf("unknown kind %s/%s", meta.APIVersion, meta.Kind)
	}
	return yaml.UnmarshalStrict(doc, newObject())
}

func stripComments(doc string) string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
