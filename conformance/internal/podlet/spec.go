package podlet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Objects looks up the Secrets and ConfigMaps a pod refers to (an informer cache in
// the podlet, a map in tests). A missing object must yield a NotFound API error.
type Objects interface {
	Secret(namespace, name string) (*corev1.Secret, error)
	ConfigMap(namespace, name string) (*corev1.ConfigMap, error)
}

// WaitingError means the pod refers to an object that does not exist yet. The
// suite creates several Secrets after the Deployments that mount them, so this is
// a normal state: the podlet retries until the object appears.
type WaitingError struct{ What string }

func (e *WaitingError) Error() string { return "waiting for " + e.What }

// IsWaiting reports whether err is (or wraps) a WaitingError.
func IsWaiting(err error) bool {
	var w *WaitingError
	return errors.As(err, &w)
}

// PodAddresses are the values fieldRefs such as status.podIP resolve to.
type PodAddresses struct {
	PodIP  string
	HostIP string
}

// ContainerEnv computes a container's environment the way the kubelet does: envFrom
// first, then env (later entries win), with $(VAR) references expanded against the
// variables defined before them.
func ContainerEnv(pod *corev1.Pod, c *corev1.Container, addrs PodAddresses, objs Objects) ([]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		data, err := envFromData(pod.Namespace, from, objs)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, Expand(e.Value, vars))
			continue
		}
		v, skip, err := envValueFrom(pod, c, e.ValueFrom, addrs, objs)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

func envFromData(ns string, from corev1.EnvFromSource, objs Objects) (map[string]string, error) {
	switch {
	case from.SecretRef != nil:
		s, err := objs.Secret(ns, from.SecretRef.Name)
		if err != nil {
			return missing(err, "secret "+ns+"/"+from.SecretRef.Name, from.SecretRef.Optional)
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		for k, v := range s.StringData {
			out[k] = v
		}
		return out, nil
	case from.ConfigMapRef != nil:
		cm, err := objs.ConfigMap(ns, from.ConfigMapRef.Name)
		if err != nil {
			return missing(err, "configmap "+ns+"/"+from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		}
		out := map[string]string{}
		for k, v := range cm.Data {
			out[k] = v
		}
		for k, v := range cm.BinaryData {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

// missing turns a lookup error into "wait" (required object absent), "skip"
// (optional object absent: nil map, nil error) or a real error.
func missing(err error, what string, optional *bool) (map[string]string, error) {
	if apierrors.IsNotFound(err) {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, &WaitingError{What: what}
	}
	return nil, err
}

func envValueFrom(pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource, addrs PodAddresses, objs Objects) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := FieldRef(pod, src.FieldRef.FieldPath, addrs)
		return v, false, err
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		return keyRef("secret", pod.Namespace, r.Name, r.Key, r.Optional, func() (map[string]string, error) {
			s, err := objs.Secret(pod.Namespace, r.Name)
			if err != nil {
				return nil, err
			}
			out := map[string]string{}
			for k, v := range s.Data {
				out[k] = string(v)
			}
			return out, nil
		})
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		return keyRef("configmap", pod.Namespace, r.Name, r.Key, r.Optional, func() (map[string]string, error) {
			cm, err := objs.ConfigMap(pod.Namespace, r.Name)
			if err != nil {
				return nil, err
			}
			return cm.Data, nil
		})
	case src.ResourceFieldRef != nil:
		// No cgroup limits are applied; report the request or limit as declared.
		q, ok := c.Resources.Limits[corev1.ResourceName(src.ResourceFieldRef.Resource)]
		if !ok {
			q, ok = c.Resources.Requests[corev1.ResourceName(src.ResourceFieldRef.Resource)]
		}
		if !ok {
			return "0", false, nil
		}
		return q.String(), false, nil
	}
	return "", true, nil
}

// keyRef resolves one key of a Secret or ConfigMap: (value, skip, error), where a
// missing optional object or key is skipped and a missing required one is waited for.
func keyRef(kind, ns, name, key string, optional *bool, data func() (map[string]string, error)) (string, bool, error) {
	what := kind + " " + ns + "/" + name
	m, err := data()
	if err != nil {
		_, err = missing(err, what, optional)
		return "", err == nil, err
	}
	v, ok := m[key]
	if !ok {
		if optional != nil && *optional {
			return "", true, nil
		}
		return "", false, &WaitingError{What: fmt.Sprintf("key %s in %s", key, what)}
	}
	return v, false, nil
}

// FieldRef resolves a downward-API field path for pod.
func FieldRef(pod *corev1.Pod, path string, addrs PodAddresses) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return addrs.PodIP, nil
	case "status.hostIP", "status.hostIPs":
		return addrs.HostIP, nil
	}
	for prefix, m := range map[string]map[string]string{
		"metadata.labels":      pod.Labels,
		"metadata.annotations": pod.Annotations,
	} {
		if strings.HasPrefix(path, prefix+"['") && strings.HasSuffix(path, "']") {
			return m[path[len(prefix)+2:len(path)-2]], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// Expand replaces $(NAME) with vars[NAME] and $$ with $, leaving unknown references
// as written (the kubelet's rule).
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// MaterializeVolumes writes the pod's secret, configMap, projected and emptyDir
// volumes under dir/<volume> and returns volume name -> host directory. Other
// volume types get an empty directory. It returns a WaitingError while a required
// Secret or ConfigMap (or one of the listed keys) is missing.
func MaterializeVolumes(pod *corev1.Pod, dir string, objs Objects) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		files := map[string][]byte{}
		switch {
		case v.Secret != nil:
			if err := secretFiles(pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, objs, files); err != nil {
				return nil, err
			}
		case v.ConfigMap != nil:
			if err := configMapFiles(pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, objs, files); err != nil {
				return nil, err
			}
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				var err error
				switch {
				case src.Secret != nil:
					err = secretFiles(pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, objs, files)
				case src.ConfigMap != nil:
					err = configMapFiles(pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, objs, files)
				}
				if err != nil {
					return nil, err
				}
			}
		}
		vdir := filepath.Join(dir, v.Name)
		if err := writeFiles(vdir, files); err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		out[v.Name] = vdir
	}
	return out, nil
}

func secretFiles(ns, name string, items []corev1.KeyToPath, optional *bool, objs Objects, files map[string][]byte) error {
	s, err := objs.Secret(ns, name)
	if err != nil {
		_, err = missing(err, "secret "+ns+"/"+name, optional)
		return err
	}
	return project(s.Data, items, "secret "+ns+"/"+name, files)
}

func configMapFiles(ns, name string, items []corev1.KeyToPath, optional *bool, objs Objects, files map[string][]byte) error {
	cm, err := objs.ConfigMap(ns, name)
	if err != nil {
		_, err = missing(err, "configmap "+ns+"/"+name, optional)
		return err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items, "configmap "+ns+"/"+name, files)
}

// project applies items (key -> relative path) or, without items, maps every key to
// a file of the same name.
func project(data map[string][]byte, items []corev1.KeyToPath, what string, files map[string][]byte) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return &WaitingError{What: fmt.Sprintf("key %s in %s", it.Key, what)}
		}
		files[it.Path] = v
	}
	return nil
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for rel, data := range files {
		clean := filepath.Clean(rel)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("path %q escapes the volume", rel)
		}
		p := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		// Write then rename, so a process reading a refreshed file never sees half of it.
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	return nil
}

// MountRewriter returns a function that maps a path inside the container (as found
// in env values and args, e.g. /etc/secret-volume/crt) to the host file the podlet
// wrote for it. Processes share the host filesystem, so this stands in for mounts.
func MountRewriter(c *corev1.Container, volumeDirs map[string]string) func(string) string {
	type mount struct{ in, host string }
	var mounts []mount
	for _, m := range c.VolumeMounts {
		host, ok := volumeDirs[m.Name]
		if !ok {
			continue
		}
		if m.SubPath != "" {
			host = filepath.Join(host, m.SubPath)
		}
		mounts = append(mounts, mount{in: strings.TrimSuffix(m.MountPath, "/"), host: host})
	}
	// Longest mount path first, so nested mounts win.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].in) > len(mounts[j].in) })
	return func(s string) string {
		for _, m := range mounts {
			if s == m.in || strings.HasPrefix(s, m.in+"/") {
				return m.host + s[len(m.in):]
			}
		}
		return s
	}
}

// RewriteEnv applies rewrite to the value of every NAME=VALUE entry.
func RewriteEnv(env []string, rewrite func(string) string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out[i] = k + "=" + rewrite(v)
	}
	return out
}
