// Command kubeplay turns what the chart or the kustomize base renders into
// what `podman kube play` runs, the way a kubelet would see it: the
// Deployments (one replica each, since the pods share the host network),
// their ConfigMaps and Secrets, and, for every Service rendered (and the
// "kubernetes" Service every namespace sees), the service-link variables a
// kubelet injects into each container: <NAME>_SERVICE_HOST,
// <NAME>_SERVICE_PORT, <NAME>_SERVICE_PORT_<PORT NAME>, <NAME>_PORT,
// <NAME>_PORT_<n>_<PROTO> and its _PROTO, _PORT and _ADDR forms. They are
// injected even where the pod sets enableServiceLinks: false, to show the
// bridge starts with them (a platform may add them anyway). The Secrets'
// keys become files mounted where the pod mounts the Secret, as a kubelet
// writes them (secretFiles).
//
//	kubeplay -in rendered.yaml [-extra secret.yaml] -secrets DIR -out play.yaml
//	kubeplay -kustomize DIR -secrets DIR -out play.yaml
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---")) {
		t := bytes.TrimSpace(d)
		if len(t) > 0 && !bytes.Equal(t, []byte("---")) {
			docs = append(docs, d)
		}
	}
	return docs
}

// links are the variables a kubelet gives a container for svc.
func links(svc *corev1.Service, ip string) []corev1.EnvVar {
	name := strings.ToUpper(strings.ReplaceAll(svc.Name, "-", "_"))
	var env []corev1.EnvVar
	add := func(k, v string) { env = append(env, corev1.EnvVar{Name: k, Value: v}) }
	add(name+"_SERVICE_HOST", ip)
	for i, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		port := fmt.Sprint(p.Port)
		if i == 0 {
			add(name+"_SERVICE_PORT", port)
			add(name+"_PORT", strings.ToLower(proto)+"://"+ip+":"+port)
		}
		if p.Name != "" {
			add(name+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")), port)
		}
		pfx := name + "_PORT_" + port + "_" + proto
		add(pfx, strings.ToLower(proto)+"://"+ip+":"+port)
		add(pfx+"_PROTO", strings.ToLower(proto))
		add(pfx+"_PORT", port)
		add(pfx+"_ADDR", ip)
	}
	return env
}

// forHostNetwork adapts a container to podman's host network (the pod
// shares the host's, as the test's broker and zimsim are on its
// loopback): podman 4.3 refuses container ports there, so probes that
// name a port get its number, and the ports list goes.
func forHostNetwork(c *corev1.Container) {
	named := map[string]int32{}
	for _, p := range c.Ports {
		named[p.Name] = p.ContainerPort
	}
	for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if pr != nil && pr.HTTPGet != nil && pr.HTTPGet.Port.Type == intstr.String {
			pr.HTTPGet.Port = intstr.FromInt32(named[pr.HTTPGet.Port.StrVal])
		}
	}
	c.Ports = nil
}

// secretFiles does for the pod's Secret volumes what a kubelet does:
// writes each Secret's keys (decoded; items: key to path; defaultMode)
// into a folder of dir, group-owned by the pod's fsGroup, and mounts that
// folder where the Secret goes. podman's own Secret volumes cannot stand
// in (4.3 writes data values still base64 encoded, ignores stringData,
// and keeps the first content it wrote for a name across runs).
func secretFiles(pod *corev1.PodSpec, secrets map[string]*corev1.Secret, dir string) error {
	gid := -1
	if pod.SecurityContext != nil && pod.SecurityContext.FSGroup != nil {
		gid = int(*pod.SecurityContext.FSGroup)
	}
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if v.Secret == nil {
			continue
		}
		sec, ok := secrets[v.Secret.SecretName]
		if !ok {
			return fmt.Errorf("volume %s: no Secret %s to play", v.Name, v.Secret.SecretName)
		}
		data := map[string][]byte{}
		for k, val := range sec.Data {
			data[k] = val
		}
		for k, val := range sec.StringData {
			data[k] = []byte(val)
		}
		files := map[string][]byte{}
		if len(v.Secret.Items) == 0 {
			files = data
		}
		for _, it := range v.Secret.Items {
			val, ok := data[it.Key]
			if !ok {
				return fmt.Errorf("volume %s: Secret %s has no key %s", v.Name, sec.Name, it.Key)
			}
			files[it.Path] = val
		}
		mode := os.FileMode(0o644)
		if v.Secret.DefaultMode != nil {
			mode = os.FileMode(*v.Secret.DefaultMode)
		}
		where := filepath.Join(dir, v.Name)
		if err := os.MkdirAll(where, 0o755); err != nil {
			return err
		}
		for name, val := range files {
			f := filepath.Join(where, name)
			if err := os.WriteFile(f, val, mode); err != nil {
				return err
			}
			if err := os.Chmod(f, mode); err != nil {
				return err
			}
			if gid >= 0 {
				if err := os.Chown(f, 0, gid); err != nil {
					return err
				}
			}
		}
		dirType := corev1.HostPathDirectory
		v.VolumeSource = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: where, Type: &dirType}}
	}
	return nil
}

func render(in, kdir string) ([]byte, error) {
	if kdir != "" {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		res, err := k.Run(filesys.MakeFsOnDisk(), kdir)
		if err != nil {
			return nil, err
		}
		return res.AsYaml()
	}
	return os.ReadFile(in)
}

func run(in, kdir, extra, out, secretsDir string) error {
	data, err := render(in, kdir)
	if err != nil {
		return err
	}
	if extra != "" {
		more, err := os.ReadFile(extra)
		if err != nil {
			return err
		}
		data = append(append(data, []byte("\n---\n")...), more...)
	}
	var keep [][]byte
	var deps []*appsv1.Deployment
	secrets := map[string]*corev1.Secret{}
	svcs := []*corev1.Service{{}}
	svcs[0].Name = "kubernetes"
	svcs[0].Spec.Ports = []corev1.ServicePort{{Name: "https", Port: 443, Protocol: "TCP"}}
	for _, doc := range documents(data) {
		var tm typeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return err
		}
		switch tm.Kind {
		case "Deployment":
			d := &appsv1.Deployment{}
			if err := yaml.UnmarshalStrict(doc, d); err != nil {
				return err
			}
			deps = append(deps, d)
		case "Service":
			s := &corev1.Service{}
			if err := yaml.UnmarshalStrict(doc, s); err != nil {
				return err
			}
			svcs = append(svcs, s)
		case "ConfigMap":
			keep = append(keep, doc)
		case "Secret":
			sec := &corev1.Secret{}
			if err := yaml.UnmarshalStrict(doc, sec); err != nil {
				return err
			}
			secrets[sec.Name] = sec
		}
	}
	if len(deps) == 0 {
		return fmt.Errorf("nothing to play: no Deployment rendered")
	}
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	// ConfigMaps and Secrets first: podman (4.3) creates a Secret when it
	// reads it, and a pod that mounts one it has not read yet crashes it.
	var buf bytes.Buffer
	for _, k := range keep {
		buf.WriteString("---\n")
		buf.Write(bytes.TrimLeft(k, "\n"))
		buf.WriteString("\n")
	}
	for _, d := range deps {
		one := int32(1)
		d.Spec.Replicas = &one
		for i := range d.Spec.Template.Spec.Containers {
			c := &d.Spec.Template.Spec.Containers[i]
			for k, s := range svcs {
				c.Env = append(c.Env, links(s, fmt.Sprintf("10.96.0.%d", k+1))...)
			}
			forHostNetwork(c)
		}
		if err := secretFiles(&d.Spec.Template.Spec, secrets, secretsDir); err != nil {
			return err
		}
		y, err := yaml.Marshal(d)
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func main() {
	in := flag.String("in", "", "rendered manifests (helm template)")
	kdir := flag.String("kustomize", "", "a kustomization to render")
	extra := flag.String("extra", "", "more manifests to play (the test's Secret)")
	out := flag.String("out", "", "where to write what podman kube play runs")
	secretsDir := flag.String("secrets", "", "where to write the Secrets' files, as a kubelet does")
	flag.Parse()
	if (*in == "") == (*kdir == "") || *out == "" || *secretsDir == "" {
		fmt.Fprintln(os.Stderr, "usage: kubeplay (-in FILE | -kustomize DIR) [-extra FILE] -secrets DIR -out FILE")
		os.Exit(2)
	}
	if err := run(*in, *kdir, *extra, *out, *secretsDir); err != nil {
		fmt.Fprintln(os.Stderr, "kubeplay:", err)
		os.Exit(1)
	}
}
