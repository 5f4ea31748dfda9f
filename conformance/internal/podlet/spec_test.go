package podlet

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type mapObjects struct {
	secrets    map[string]*corev1.Secret
	configMaps map[string]*corev1.ConfigMap
}

func (m mapObjects) Secret(ns, name string) (*corev1.Secret, error) {
	if s, ok := m.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func (m mapObjects) ConfigMap(ns, name string) (*corev1.ConfigMap, error) {
	if c, ok := m.configMaps[ns+"/"+name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func tlsPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "tls-backend-x", Namespace: "infra", UID: "u1", Labels: map[string]string{"app": "tls"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "tls-backend",
				Image: "registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0",
				Env: []corev1.EnvVar{
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
					{Name: "GREETING", Value: "pod $(POD_NAME) $$(NOT) $(UNKNOWN)"},
					{Name: "TLS_SERVER_CERT", Value: "/etc/secret-volume/crt"},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "secret-volume", MountPath: "/etc/secret-volume"}},
			}},
			Volumes: []corev1.Volume{{
				Name: "secret-volume",
				VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: "certs",
					Items:      []corev1.KeyToPath{{Key: "tls.crt", Path: "crt"}, {Key: "tls.key", Path: "key"}},
				}},
			}},
		},
	}
}

func TestContainerEnv(t *testing.T) {
	pod := tlsPod()
	env, err := ContainerEnv(pod, &pod.Spec.Containers[0], PodAddresses{PodIP: "10.244.1.7", HostIP: "10.244.0.1"}, mapObjects{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"POD_NAME=tls-backend-x", "NAMESPACE=infra", "IP=10.244.1.7", "APP=tls",
		"GREETING=pod tls-backend-x $(NOT) $(UNKNOWN)", "TLS_SERVER_CERT=/etc/secret-volume/crt",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("env %q lacks %q", env, want)
		}
	}
}

func TestContainerEnvWaitsForSecretKeyRef(t *testing.T) {
	pod := tlsPod()
	c := &pod.Spec.Containers[0]
	c.Env = append(c.Env, corev1.EnvVar{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "later"}, Key: "token"}}})
	_, err := ContainerEnv(pod, c, PodAddresses{}, mapObjects{})
	if !IsWaiting(err) {
		t.Fatalf("err = %v, want a WaitingError", err)
	}
	objs := mapObjects{secrets: map[string]*corev1.Secret{"infra/later": {Data: map[string][]byte{"token": []byte("s3cret")}}}}
	env, err := ContainerEnv(pod, c, PodAddresses{}, objs)
	if err != nil || !slices.Contains(env, "TOKEN=s3cret") {
		t.Errorf("env %q, err %v", env, err)
	}
}

func TestMaterializeVolumesAndRewrite(t *testing.T) {
	pod := tlsPod()
	dir := t.TempDir()
	if _, err := MaterializeVolumes(pod, dir, mapObjects{}); !IsWaiting(err) {
		t.Fatalf("missing secret: err = %v, want a WaitingError", err)
	}
	objs := mapObjects{secrets: map[string]*corev1.Secret{"infra/certs": {Data: map[string][]byte{
		"tls.crt": []byte("CERT"), "tls.key": []byte("KEY"), "other": []byte("x"),
	}}}}
	vols, err := MaterializeVolumes(pod, dir, objs)
	if err != nil {
		t.Fatal(err)
	}
	host := vols["secret-volume"]
	if b, _ := os.ReadFile(filepath.Join(host, "crt")); string(b) != "CERT" {
		t.Errorf("crt = %q", b)
	}
	if _, err := os.Stat(filepath.Join(host, "other")); err == nil {
		t.Error("a key not in items was written")
	}
	rw := MountRewriter(&pod.Spec.Containers[0], vols)
	if got := rw("/etc/secret-volume/key"); got != filepath.Join(host, "key") {
		t.Errorf("rewrite = %q", got)
	}
	if got := rw("/etc/secret-volumeX/key"); got != "/etc/secret-volumeX/key" {
		t.Errorf("a path outside the mount was rewritten: %q", got)
	}
	env := RewriteEnv([]string{"TLS_SERVER_CERT=/etc/secret-volume/crt", "A=b=c"}, rw)
	if env[0] != "TLS_SERVER_CERT="+filepath.Join(host, "crt") || env[1] != "A=b=c" {
		t.Errorf("env = %q", env)
	}
}

func TestMaterializeVolumesRejectsEscapingPaths(t *testing.T) {
	pod := tlsPod()
	pod.Spec.Volumes[0].Secret.Items = []corev1.KeyToPath{{Key: "tls.crt", Path: "../../escape"}}
	objs := mapObjects{secrets: map[string]*corev1.Secret{"infra/certs": {Data: map[string][]byte{"tls.crt": []byte("x")}}}}
	if _, err := MaterializeVolumes(pod, t.TempDir(), objs); err == nil || IsWaiting(err) {
		t.Errorf("err = %v, want a path error", err)
	}
}

func TestOptionalMissingConfigMapIsEmpty(t *testing.T) {
	yes := true
	pod := tlsPod()
	pod.Spec.Volumes = []corev1.Volume{{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: &yes}}}}
	vols, err := MaterializeVolumes(pod, t.TempDir(), mapObjects{})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(vols["cm"]); len(ents) != 0 {
		t.Errorf("optional missing configmap produced %d files", len(ents))
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "B": "y"}
	for in, want := range map[string]string{
		"$(A)-$(B)": "x-y", "$$(A)": "$(A)", "$(C)": "$(C)", "cost $5": "cost $5", "$(A": "$(A", "$": "$",
	} {
		if got := Expand(in, vars); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}
