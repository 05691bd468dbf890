package validate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// helm finds the helm binary (scripts/setup installs it); a missing one
// fails the test, it never skips.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("helm"); err != nil {
			t.Fatal("helm is missing: run scripts/setup (it installs helm.sh/helm/v3/cmd/helm)")
		}
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

const chart = "../helm/zimbridge"

// render templates the chart with the values files given and decodes
// every document strictly; it returns them by kind.
func render(t *testing.T, values ...string) map[string][]interface{} {
	args := []string{"template", "z", chart}
	for _, v := range values {
		args = append(args, "-f", v)
	}
	out := helm(t, args...)
	byKind := map[string][]interface{}{}
	for _, doc := range documents(out) {
		obj := decodeStrict(t, "helm template", doc)
		kind := strings.TrimPrefix(strings.Split(strings.TrimSpace(string(doc[strings.Index(string(doc), "kind:"):])), "\n")[0], "kind: ")
		byKind[kind] = append(byKind[kind], obj)
	}
	return byKind
}

func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chart)
	helm(t, "lint", "--strict", chart, "-f", chart+"/ci/all-on-values.yaml")
}

// Secrets reach the pod as files only: no variable takes a value from a
// Secret, and the secret file settings point into the mounts.
func checkSecretsAreFiles(t *testing.T, dep *appsv1.Deployment, cms []interface{}) {
	c := dep.Spec.Template.Spec.Containers[0]
	if len(c.Env) != 0 {
		t.Fatalf("the container has env entries (secrets must be files): %v", c.Env)
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			t.Fatal("envFrom a Secret: secrets must be mounted as files")
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
		if m.SubPath != "" && m.Name != "config-file" {
			t.Fatalf("volume %s mounted with subPath: a rotated Secret would not reach the pod", m.Name)
		}
	}
	if mounts["zim-secret"] != "/run/secrets/zim" {
		t.Fatalf("the ZIM secret is not mounted at /run/secrets/zim: %v", mounts)
	}
	cm := cms[0].(*corev1.ConfigMap)
	if cm.Data["ZIMBRIDGE_ZIM_SERVER_SECRET_FILE"] != "/run/secrets/zim/server-secret" {
		t.Fatalf("zim.server_secret_file: %q", cm.Data["ZIMBRIDGE_ZIM_SERVER_SECRET_FILE"])
	}
	for k := range cm.Data {
		if strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
			t.Fatalf("a password setting in the ConfigMap: %s", k)
		}
	}
}

func checkHardened(t *testing.T, dep *appsv1.Deployment) {
	c := dep.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Fatal("container securityContext must be read-only, no escalation, drop ALL")
	}
	psc := dep.Spec.Template.Spec.SecurityContext
	if !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || psc.SeccompProfile.Type != "RuntimeDefault" {
		t.Fatal("pod must run as 65532, non-root, seccomp RuntimeDefault")
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Fatal("probes must use /healthz and /readyz")
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Fatal("resources must be set")
	}
	if *dep.Spec.Template.Spec.TerminationGracePeriodSeconds*1000 <= 20000+5000 {
		t.Fatal("terminationGracePeriodSeconds too short for shutdown.drain_ms")
	}
	// The image's entrypoint is zimbridge: the command comes first.
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("args must start with the command run: %v", c.Args)
	}
	// Kubernetes' <SERVICE>_PORT variables are not settings.
	if el := dep.Spec.Template.Spec.EnableServiceLinks; el == nil || *el {
		t.Fatal("enableServiceLinks must be false")
	}
}

func TestHelmDefaults(t *testing.T) {
	objs := render(t)
	if len(objs["Deployment"]) != 1 || len(objs["Service"]) != 1 || len(objs["ConfigMap"]) != 1 {
		t.Fatalf("defaults render %d Deployments, %d Services, %d ConfigMaps",
			len(objs["Deployment"]), len(objs["Service"]), len(objs["ConfigMap"]))
	}
	for _, k := range []string{"PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"} {
		if len(objs[k]) != 0 {
			t.Fatalf("%s rendered though not enabled", k)
		}
	}
	dep := objs["Deployment"][0].(*appsv1.Deployment)
	if *dep.Spec.Replicas != 2 {
		t.Fatalf("replicas %d", *dep.Spec.Replicas)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != "ghcr.io/example/zimbridge:0.1.0" {
		t.Fatalf("image %q", got)
	}
	checkHardened(t, dep)
	checkSecretsAreFiles(t, dep, objs["ConfigMap"])
	cm := objs["ConfigMap"][0].(*corev1.ConfigMap)
	if cm.Data["ZIMBRIDGE_ZIM_APP_ID"] != "1234567890" || cm.Data["ZIMBRIDGE_KAFKA_GROUP_ID"] != "zimbridge" {
		t.Fatalf("settings are not ZIMBRIDGE_* variables: %v", cm.Data)
	}
}

func TestHelmEverythingOn(t *testing.T) {
	objs := render(t, chart+"/ci/all-on-values.yaml")
	for _, k := range []string{"PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"} {
		if len(objs[k]) != 1 {
			t.Fatalf("%s not rendered with it enabled", k)
		}
	}
	checkNetworkPolicy(t, objs["NetworkPolicy"][0].(*networkingv1.NetworkPolicy), objs["Deployment"][0].(*appsv1.Deployment))
	dep := objs["Deployment"][0].(*appsv1.Deployment)
	if dep.Spec.Replicas != nil {
		t.Fatal("with the HPA on, the Deployment must not fix replicas")
	}
	checkHardened(t, dep)
	checkSecretsAreFiles(t, dep, objs["ConfigMap"])
	c := dep.Spec.Template.Spec.Containers[0]
	if strings.Join(c.Args, " ") != "run --config /etc/zimbridge/zimbridge.conf" {
		t.Fatalf("args %v", c.Args)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		vols[v.Name] = v
	}
	if vols["zim-secret"].Secret == nil || vols["zim-secret"].Secret.SecretName != "chat-zim" ||
		vols["kafka-secret"].Secret == nil || vols["kafka-secret"].Secret.SecretName != "chat-kafka" ||
		vols["ca"].ConfigMap == nil {
		t.Fatalf("secret volumes: %+v", vols)
	}
	var cm *corev1.ConfigMap
	for _, o := range objs["ConfigMap"] {
		if m := o.(*corev1.ConfigMap); m.Data["ZIMBRIDGE_SASL_PASSWORD_FILE"] != "" {
			cm = m
		}
	}
	if cm == nil || cm.Data["ZIMBRIDGE_SASL_PASSWORD_FILE"] != "/run/secrets/kafka/password" ||
		cm.Data["ZIMBRIDGE_KAFKA_SASL_MECHANISMS"] != "SCRAM-SHA-256" {
		t.Fatal("the SASL password must be a file setting, the mechanism a variable")
	}
	if c.Image != "registry.example.com/chat/zimbridge:0.1.0" {
		t.Fatalf("image %q", c.Image)
	}
}

// Whether sel selects only pods whose label key is value: by matchLabels,
// or by one In expression of that one value, and nothing else that could
// contradict it.
func selectsOnly(sel *metav1.LabelSelector, key, value string) bool {
	if sel == nil {
		return false
	}
	byLabel := len(sel.MatchLabels) == 1 && sel.MatchLabels[key] == value && len(sel.MatchExpressions) == 0
	byExpr := len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 1 &&
		sel.MatchExpressions[0].Key == key && sel.MatchExpressions[0].Operator == metav1.LabelSelectorOpIn &&
		len(sel.MatchExpressions[0].Values) == 1 && sel.MatchExpressions[0].Values[0] == value
	return byLabel || byExpr
}

// The NetworkPolicy selects the bridge's pods, restricts ingress only, and
// admits one port, the container's metrics port, from Prometheus alone.
func checkNetworkPolicy(t *testing.T, np *networkingv1.NetworkPolicy, dep *appsv1.Deployment) {
	t.Helper()
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if dep.Spec.Template.Labels[k] != v {
			t.Fatalf("the NetworkPolicy selects %s=%s, which the pods lack", k, v)
		}
	}
	if len(np.Spec.PodSelector.MatchLabels) == 0 {
		t.Fatal("the NetworkPolicy selects every pod of the namespace")
	}
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Fatalf("policy types %v", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 {
		t.Fatalf("ingress rules %+v", np.Spec.Ingress)
	}
	port := np.Spec.Ingress[0].Ports[0].Port
	named := false
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		named = named || (port != nil && p.Name == port.String())
	}
	if !named {
		t.Fatalf("the NetworkPolicy admits port %v, not the container's", port)
	}
	from := np.Spec.Ingress[0].From
	if len(from) != 1 || !selectsOnly(from[0].PodSelector, "app.kubernetes.io/name", "prometheus") {
		t.Fatalf("ingress from %+v, want Prometheus only", from)
	}
}

// The alerts, as the base and the chart give them, pass Prometheus' own
// rule checker (the PromQL parses, the templates expand), and both give
// the same alerts. A missing promtool fails the test.
func TestAlertRulesPassPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is missing: run scripts/setup (it installs the prometheus package)")
	}
	data, err := os.ReadFile("../base/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]*monv1.PrometheusRule{
		"base":  decodeStrict(t, "base", data).(*monv1.PrometheusRule),
		"chart": render(t, chart+"/ci/all-on-values.yaml")["PrometheusRule"][0].(*monv1.PrometheusRule),
	}
	alerts := map[string][]string{}
	for name, r := range rules {
		out, err := yaml.Marshal(r.Spec)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), name+".yaml")
		if err := os.WriteFile(f, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(bin, "check", "rules", f).CombinedOutput(); err != nil {
			t.Fatalf("promtool check rules (%s): %v\n%s", name, err, msg)
		}
		for _, g := range r.Spec.Groups {
			for _, rule := range g.Rules {
				alerts[name] = append(alerts[name], rule.Alert)
			}
		}
	}
	if strings.Join(alerts["base"], ",") != strings.Join(alerts["chart"], ",") {
		t.Fatalf("the base and the chart give different alerts: %v vs %v", alerts["base"], alerts["chart"])
	}
	if !strings.Contains(strings.Join(alerts["base"], ","), "ZimbridgeThrottled") || len(alerts["base"]) < 5 {
		t.Fatalf("alerts: %v", alerts["base"])
	}
}
