package podlet

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

type fakeNet struct {
	mu   sync.Mutex
	up   map[string]netip.Addr
	down []string
}

func (n *fakeNet) Setup(id string, a netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.up[id] = a
	return nil
}

func (n *fakeNet) Teardown(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.up[id]; ok {
		n.down = append(n.down, id)
	}
	delete(n.up, id)
	return nil
}

func (n *fakeNet) Netns(id string) string { return "/run/netns/test-" + id }

func (n *fakeNet) count() (int, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.up), len(n.down)
}

// fakeProc "runs" as the test process itself, which listens on a loopback socket,
// so the podlet's socket probe sees it listening.
type fakeProc struct {
	once sync.Once
	done chan struct{}
}

func (p *fakeProc) Pid() int { return os.Getpid() }
func (p *fakeProc) Wait() int {
	<-p.done
	return 0
}
func (p *fakeProc) Kill(time.Duration) { p.once.Do(func() { close(p.done) }) }

type fakeRunner struct {
	mu    sync.Mutex
	specs []ProcSpec
	procs []*fakeProc
}

func (r *fakeRunner) Start(s ProcSpec) (Proc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &fakeProc{done: make(chan struct{})}
	r.specs = append(r.specs, s)
	r.procs = append(r.procs, p)
	io.WriteString(s.Output, "Starting server, listening on port 3000 (http)\n")
	return p, nil
}

func (r *fakeRunner) started() []ProcSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ProcSpec(nil), r.specs...)
}

func newTestPodlet(t *testing.T, objs ...runtime.Object) (*Podlet, *fake.Clientset, *fakeNet, *fakeRunner) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cs := fake.NewClientset(objs...)
	// The fake tracker does not implement pods/binding.
	cs.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := a.(k8stesting.CreateAction).GetObject().(*corev1.Binding)
		obj, err := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*corev1.Pod).DeepCopy()
		pod.Spec.NodeName = b.Target.Name
		return true, pod, cs.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), pod, b.Namespace)
	})
	pool, _ := ParseIPPool("10.244.1.1-10.244.1.20")
	n := &fakeNet{up: map[string]netip.Addr{}}
	r := &fakeRunner{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(Config{
		NodeName: "node-a", NodeIP: netip.MustParseAddr("10.244.0.1"), KubeletPort: 10250, Pool: pool,
		EchoBinary: "/bin/echo-basic", StateDir: t.TempDir(), Workers: 2,
		ImageBinaries: map[string]string{"gatehouse.dev/gatehouse-proxy": "/bin/gatehouse-proxy"},
	}, cs, n, r, log)
	return p, cs, n, r
}

func echoPod(name string, volumes ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name + "-0123456789")},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "echo", Image: "registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0",
					Env: []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
				{Name: "sidecar", Image: "registry.example/unknown:1"},
			},
			Volumes: volumes,
		},
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func getPod(cs *fake.Clientset, name string) (*corev1.Pod, error) {
	return cs.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestPodLifecycle(t *testing.T) {
	p, cs, n, r := newTestPodlet(t, echoPod("web"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	var pod *corev1.Pod
	waitFor(t, "the pod to be bound, running and Ready", func() bool {
		pod, _ = getPod(cs, "web")
		return pod != nil && pod.Spec.NodeName == "node-a" && ready(pod)
	})
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP != "10.244.1.1" || pod.Status.HostIP != "10.244.0.1" {
		t.Errorf("status = phase %s podIP %s hostIP %s", pod.Status.Phase, pod.Status.PodIP, pod.Status.HostIP)
	}
	if len(pod.Status.ContainerStatuses) != 2 {
		t.Fatalf("container statuses: %+v", pod.Status.ContainerStatuses)
	}
	for _, c := range pod.Status.ContainerStatuses {
		if !c.Ready || c.State.Running == nil {
			t.Errorf("container %s: ready=%v state=%+v", c.Name, c.Ready, c.State)
		}
	}
	specs := r.started()
	if len(specs) != 1 {
		t.Fatalf("started %d processes, want 1 (the unknown image runs nothing)", len(specs))
	}
	if !slices.Contains(specs[0].Env, "POD_NAME=web") || specs[0].Netns == "" || specs[0].Path != "/bin/echo-basic" {
		t.Errorf("process spec = %+v", specs[0])
	}
	if b := p.Logs("ns", "web", "echo"); b == nil || b.Render(LogQuery{TailLines: -1}) == "" {
		t.Error("no logs captured for the echo container")
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
	if err != nil || node.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("node = %+v, %v", node, err)
	}
	if _, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, "node-a", metav1.GetOptions{}); err != nil {
		t.Errorf("lease: %v", err)
	}

	// Graceful deletion: the podlet stops the pod and removes the object.
	now := metav1.Now()
	pod.DeletionTimestamp = &now
	if _, err := cs.CoreV1().Pods("ns").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod object to be deleted", func() bool {
		_, err := getPod(cs, "web")
		return apierrors.IsNotFound(err)
	})
	waitFor(t, "the pod network to be torn down", func() bool {
		up, down := n.count()
		return up == 0 && down == 1
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPodWaitsForSecret(t *testing.T) {
	vol := corev1.Volume{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "later"}}}
	p, cs, _, r := newTestPodlet(t, echoPod("tls", vol))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	waitFor(t, "the pod to get an address while waiting", func() bool {
		pod, _ := getPod(cs, "tls")
		return pod != nil && pod.Status.PodIP != ""
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(r.started()); n != 0 {
		t.Fatalf("started %d processes before the secret exists", n)
	}
	pod, _ := getPod(cs, "tls")
	if ready(pod) || pod.Status.ContainerStatuses[0].State.Waiting == nil {
		t.Errorf("pod without its secret: ready=%v state=%+v", ready(pod), pod.Status.ContainerStatuses[0].State)
	}
	_, err := cs.CoreV1().Secrets("ns").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "later", Namespace: "ns"}, Data: map[string][]byte{"tls.crt": []byte("x")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod to start once the secret exists", func() bool {
		pod, _ := getPod(cs, "tls")
		return len(r.started()) == 1 && pod != nil && ready(pod)
	})
}

func TestPodOnOtherNodeIgnored(t *testing.T) {
	other := echoPod("elsewhere")
	other.Spec.NodeName = "node-b"
	custom := echoPod("custom")
	custom.Spec.SchedulerName = "someone-else"
	p, cs, _, r := newTestPodlet(t, other, custom)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	time.Sleep(500 * time.Millisecond)
	if n := len(r.started()); n != 0 {
		t.Errorf("started %d processes for pods that are not ours", n)
	}
	if pod, _ := getPod(cs, "custom"); pod.Spec.NodeName != "" {
		t.Errorf("bound a pod with schedulerName %q", pod.Spec.SchedulerName)
	}
}

func TestMappedImageRunsItsBinaryWithTheContainerArgs(t *testing.T) {
	proxy := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "ns", UID: types.UID("uid-gw-0123456789")},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "proxy", Image: "gatehouse.dev/gatehouse-proxy:0.1.0",
			Args: []string{"--gateway=ns/gw", "--proxy-id=$(POD_NAME)"},
			Env:  []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		}}},
	}
	p, cs, _, r := newTestPodlet(t, proxy)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "the proxy pod to run", func() bool {
		pod, _ := getPod(cs, "gw")
		return len(r.started()) == 1 && pod != nil && ready(pod)
	})
	spec := r.started()[0]
	if spec.Path != "/bin/gatehouse-proxy" || !slices.Equal(spec.Args, []string{"--gateway=ns/gw", "--proxy-id=gw"}) {
		t.Errorf("process spec = %+v", spec)
	}
}

func TestImageRepository(t *testing.T) {
	for in, want := range map[string]string{
		"gatehouse.dev/gatehouse-proxy:0.1.0":         "gatehouse.dev/gatehouse-proxy",
		"gatehouse.dev/gatehouse-proxy":               "gatehouse.dev/gatehouse-proxy",
		"registry:5000/gatehouse-proxy:dev":           "registry:5000/gatehouse-proxy",
		"registry:5000/gatehouse-proxy":               "registry:5000/gatehouse-proxy",
		"gatehouse.dev/gatehouse-proxy@sha256:abcdef": "gatehouse.dev/gatehouse-proxy",
	} {
		if got := ImageRepository(in); got != want {
			t.Errorf("ImageRepository(%q) = %q, want %q", in, got, want)
		}
	}
}
