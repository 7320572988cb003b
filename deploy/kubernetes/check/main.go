// Command check validates the Prometheus Operator resources of
// deploy/kubernetes (ServiceMonitor, PodMonitor), whose schemas the
// Kubernetes validator does not have: each document is decoded strictly into
// the operator's own Go types (an unknown or misspelt field is an error), and
// its selector and port must match the serve Service or pods of the other
// manifests. Usage: go run . ../*.yaml (scripts/test.sh does).
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(1)
	}
}

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	raw  []byte
	meta metav1.TypeMeta
}

var separator = regexp.MustCompile(`(?m)^---\s*$`)

func run(files []string) error {
	var docs []doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, part := range separator.Split(string(b), -1) {
			if len(bytes.TrimSpace([]byte(part))) == 0 {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(part), &tm); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			docs = append(docs, doc{file: filepath.Base(f), raw: []byte(part), meta: tm})
		}
	}
	var services []corev1.Service
	var deployments []appsv1.Deployment
	for _, d := range docs {
		switch d.meta.Kind {
		case "Service":
			var s corev1.Service
			if err := yaml.Unmarshal(d.raw, &s); err != nil {
				return fmt.Errorf("%s: %w", d.file, err)
			}
			services = append(services, s)
		case "Deployment":
			var dep appsv1.Deployment
			if err := yaml.Unmarshal(d.raw, &dep); err != nil {
				return fmt.Errorf("%s: %w", d.file, err)
			}
			deployments = append(deployments, dep)
		}
	}
	checked := 0
	for _, d := range docs {
		var err error
		switch d.meta.Kind {
		case "ServiceMonitor":
			err = checkServiceMonitor(d, services)
		case "PodMonitor":
			err = checkPodMonitor(d, deployments)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.file, d.meta.Kind, err)
		}
		fmt.Printf("OK %s: %s %s (monitoring.coreos.com/v1, prometheus-operator v0.95.2 types, strict)\n", d.file, d.meta.Kind, "esrule")
		checked++
	}
	if checked == 0 {
		return fmt.Errorf("no ServiceMonitor or PodMonitor in %v", files)
	}
	return nil
}

func checkServiceMonitor(d doc, services []corev1.Service) error {
	if d.meta.APIVersion != "monitoring.coreos.com/v1" {
		return fmt.Errorf("apiVersion %q, want monitoring.coreos.com/v1", d.meta.APIVersion)
	}
	var sm monitoringv1.ServiceMonitor
	if err := yaml.UnmarshalStrict(d.raw, &sm); err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || sel.Empty() {
		return fmt.Errorf("selector %v: want the serve Service's labels", sm.Spec.Selector)
	}
	if len(sm.Spec.Endpoints) == 0 {
		return fmt.Errorf("no endpoints")
	}
	for _, s := range services {
		if !sel.Matches(labels.Set(s.Labels)) {
			continue
		}
		for _, ep := range sm.Spec.Endpoints {
			if !servicePort(s, ep.Port) {
				return fmt.Errorf("endpoint port %v is not a port name of Service %s", ep.Port, s.Name)
			}
		}
		return nil
	}
	return fmt.Errorf("selector %v matches no Service of the manifests", sm.Spec.Selector.MatchLabels)
}

func servicePort(s corev1.Service, name string) bool {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

func checkPodMonitor(d doc, deployments []appsv1.Deployment) error {
	if d.meta.APIVersion != "monitoring.coreos.com/v1" {
		return fmt.Errorf("apiVersion %q, want monitoring.coreos.com/v1", d.meta.APIVersion)
	}
	var pm monitoringv1.PodMonitor
	if err := yaml.UnmarshalStrict(d.raw, &pm); err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil || sel.Empty() {
		return fmt.Errorf("selector %v: want the serve pods' labels", pm.Spec.Selector)
	}
	if len(pm.Spec.PodMetricsEndpoints) == 0 {
		return fmt.Errorf("no podMetricsEndpoints")
	}
	for _, dep := range deployments {
		if !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
			continue
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			if ep.Port == nil || !containerPort(dep, *ep.Port) {
				return fmt.Errorf("endpoint port %v is not a container port name of Deployment %s", ep.Port, dep.Name)
			}
		}
		return nil
	}
	return fmt.Errorf("selector %v matches no Deployment's pods", pm.Spec.Selector.MatchLabels)
}

func containerPort(dep appsv1.Deployment, name string) bool {
	for _, c := range dep.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}
