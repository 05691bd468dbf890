// Package validate checks the Kubernetes manifests in deploy/ the way the
// API server would: every document decodes strictly (unknown or misspelled
// fields are errors) into the Kubernetes API's own Go types, and the
// example overlay renders with the kustomize API and decodes likewise.
//
//	cd deploy/validate && go test ./...
package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// target returns a fresh value of the Go type for apiVersion/kind.
func target(tm typeMeta) (interface{}, error) {
	switch tm.APIVersion + "/" + tm.Kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monv1.ServiceMonitor{}, nil
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monv1.PrometheusRule{}, nil
	}
	return nil, fmt.Errorf("no Go type for %s %s", tm.APIVersion, tm.Kind)
}

func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 && !bytes.Equal(bytes.TrimSpace(d), []byte("---")) {
			docs = append(docs, d)
		}
	}
	return docs
}

func decodeStrict(t *testing.T, name string, doc []byte) interface{} {
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	obj, err := target(tm)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s: %s %s does not decode strictly: %v", name, tm.APIVersion, tm.Kind, err)
	}
	return obj
}

func TestBaseManifestsDecodeStrictly(t *testing.T) {
	files, _ := filepath.Glob("../base/*.yaml")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "kustomization.yaml") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range documents(data) {
			decodeStrict(t, f, doc)
			n++
		}
	}
	if n < 7 {
		t.Fatalf("only %d manifests found", n)
	}
}

// A misspelled field must fail: the check itself is checked.
func TestStrictDecodingRejectsTypos(t *testing.T) {
	bad := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n")
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(bad, &d); err == nil {
		t.Fatal("a misspelled field (replica) was accepted")
	}
}

func TestOverlayRendersAndDecodes(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), "../overlays/example")
	if err != nil {
		t.Fatalf("kustomize: %v", err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var dep *appsv1.Deployment
	var np *networkingv1.NetworkPolicy
	for _, doc := range documents(out) {
		switch o := decodeStrict(t, "overlay", doc).(type) {
		case *appsv1.Deployment:
			dep = o
		case *networkingv1.NetworkPolicy:
			np = o
		}
	}
	if dep == nil || np == nil {
		t.Fatal("the overlay has no Deployment or no NetworkPolicy")
	}
	// As rendered: the base's labels must not have rewritten its source.
	checkNetworkPolicy(t, np, dep)
	if dep.Namespace != "chat" || *dep.Spec.Replicas != 3 {
		t.Fatalf("overlay not applied: namespace %q replicas %d", dep.Namespace, *dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != "registry.example.com/chat/zimbridge:0.1.0" {
		t.Fatalf("image %q", c.Image)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Fatal("container securityContext must be read-only, no escalation, drop ALL")
	}
	psc := dep.Spec.Template.Spec.SecurityContext
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile.Type != "RuntimeDefault" {
		t.Fatal("pod must run as non-root with seccomp RuntimeDefault")
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Fatal("probes must use /healthz and /readyz")
	}
	// The grace period must outlast shutdown.drain_ms (ConfigMap) + flush.
	if *dep.Spec.Template.Spec.TerminationGracePeriodSeconds*1000 <= 20000+5000 {
		t.Fatal("terminationGracePeriodSeconds too short for shutdown.drain_ms")
	}
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("args must start with the command run (the entrypoint is zimbridge): %v", c.Args)
	}
	if el := dep.Spec.Template.Spec.EnableServiceLinks; el == nil || *el {
		t.Fatal("enableServiceLinks must be false")
	}
}

// Every dashboard query is a zimbridge metric's. Whether the bridge
// exports each one is checked against a real scrape of a running bridge
// (tests/integration/test_ops.c, check_queried_metrics).
func TestDashboardQueriesBridgeMetrics(t *testing.T) {
	data, err := os.ReadFile("../grafana/zimbridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	if len(dash.Panels) < 6 {
		t.Fatalf("%d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if !strings.Contains(q.Expr, "zimbridge_") {
				t.Errorf("panel %q queries no zimbridge metric: %s", p.Title, q.Expr)
			}
		}
	}
}
