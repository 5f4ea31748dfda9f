// Package podlet plays kubelet, scheduler and CNI for the single node of the local
// conformance cluster: it binds pending pods to its node, gives each pod a network
// namespace with an address on the cluster bridge, runs the echo backend for echo
// images, reports pod status, serves container logs and finalises deletions.
package podlet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Config is what the podlet needs to know about its node and host.
type Config struct {
	NodeName string
	NodeIP   netip.Addr
	// KubeletPort is published in the Node's daemonEndpoints; the apiserver fetches
	// container logs from NodeIP:KubeletPort.
	KubeletPort int
	Pool        *IPPool
	// EchoBinary runs every container whose image name contains "echo-basic".
	EchoBinary string
	// ImageBinaries maps an image repository (the image name without tag or
	// digest, e.g. "gatehouse.dev/gatehouse-proxy") to the binary run for it
	// with the container's args: how the local cluster runs Gatehouse's own
	// images without a container runtime.
	ImageBinaries map[string]string
	// StateDir holds volumes, log copies and the records teardown needs.
	StateDir string
	// Workers is the number of pods synced concurrently.
	Workers int
}

// Podlet is the node agent. Create it with New, then Run.
type Podlet struct {
	cfg    Config
	client kubernetes.Interface
	net    Network
	runner Runner
	now    func() time.Time
	log    *slog.Logger

	factory    informers.SharedInformerFactory
	pods       corelisters.PodLister
	secrets    corelisters.SecretLister
	configMaps corelisters.ConfigMapLister
	queue      workqueue.TypedRateLimitingInterface[string]

	mu        sync.Mutex
	sandboxes map[string]*sandbox // by namespace/name
	logs      map[string]*LogBuffer
	wg        sync.WaitGroup
}

// New wires a podlet; net and runner are the host-facing parts (fakes in tests).
func New(cfg Config, client kubernetes.Interface, net Network, runner Runner, log *slog.Logger) *Podlet {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	f := informers.NewSharedInformerFactory(client, 0)
	p := &Podlet{
		cfg: cfg, client: client, net: net, runner: runner, now: time.Now, log: log,
		factory:    f,
		pods:       f.Core().V1().Pods().Lister(),
		secrets:    f.Core().V1().Secrets().Lister(),
		configMaps: f.Core().V1().ConfigMaps().Lister(),
		queue: workqueue.NewTypedRateLimitingQueue(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 5*time.Second)),
		sandboxes: map[string]*sandbox{},
		logs:      map[string]*LogBuffer{},
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			p.queue.Add(key)
		}
	}
	f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	f.Core().V1().Secrets().Informer()
	f.Core().V1().ConfigMaps().Informer()
	return p
}

// Secret implements Objects from the informer cache.
func (p *Podlet) Secret(ns, name string) (*corev1.Secret, error) {
	return p.secrets.Secrets(ns).Get(name)
}

// ConfigMap implements Objects from the informer cache.
func (p *Podlet) ConfigMap(ns, name string) (*corev1.ConfigMap, error) {
	return p.configMaps.ConfigMaps(ns).Get(name)
}

// Logs returns the buffer of one container (for the kubelet log endpoint).
func (p *Podlet) Logs(ns, pod, container string) *LogBuffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs[ns+"/"+pod+"/"+container]
}

// Run registers the node, then syncs pods until ctx ends. On return every pod
// process has been stopped and every pod namespace removed; Pod objects stay.
func (p *Podlet) Run(ctx context.Context) error {
	if err := p.registerNode(ctx); err != nil {
		return err
	}
	go p.heartbeat(ctx)
	p.factory.Start(ctx.Done())
	for typ, ok := range p.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache for %v did not sync", typ)
		}
	}
	p.log.Info("podlet ready", "node", p.cfg.NodeName)
	var workers sync.WaitGroup
	for i := 0; i < p.cfg.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for p.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	p.queue.ShutDown()
	workers.Wait()
	p.mu.Lock()
	all := make([]*sandbox, 0, len(p.sandboxes))
	for _, sb := range p.sandboxes {
		all = append(all, sb)
	}
	p.mu.Unlock()
	for _, sb := range all {
		sb.cancel() // all at once: each waits up to a grace period for its processes
	}
	p.wg.Wait()
	p.factory.Shutdown()
	return nil
}

func (p *Podlet) processNext(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	if err := p.sync(ctx, key); err != nil {
		p.log.Warn("sync failed", "pod", key, "err", err)
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

// sync moves one pod towards its desired state: bound, running, or gone.
func (p *Podlet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := p.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		p.stopSandbox(key, "")
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			return nil
		}
		if s := pod.Spec.SchedulerName; s != "" && s != corev1.DefaultSchedulerName {
			return nil
		}
		return p.bind(ctx, pod)
	}
	if pod.Spec.NodeName != p.cfg.NodeName {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		p.stopSandbox(key, "")
		return p.finalizeDeletion(ctx, pod)
	}
	// A new pod under the same name replaces the old one.
	p.stopSandbox(key, pod.UID)
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		p.mu.Lock()
		_, running := p.sandboxes[key]
		p.mu.Unlock()
		if !running {
			return nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.sandboxes[key]; ok {
		return nil
	}
	sb := newSandbox(p, pod)
	p.sandboxes[key] = sb
	for name, b := range sb.logs {
		p.logs[key+"/"+name] = b
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		sb.run()
	}()
	return nil
}

// stopSandbox stops the sandbox under key unless it belongs to keep.
func (p *Podlet) stopSandbox(key string, keep types.UID) {
	p.mu.Lock()
	sb, ok := p.sandboxes[key]
	p.mu.Unlock()
	if !ok || (keep != "" && sb.uid == keep) {
		return
	}
	sb.stop()
}

func (p *Podlet) forget(sb *sandbox) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sandboxes[sb.key] == sb {
		delete(p.sandboxes, sb.key)
	}
	for _, c := range sb.pod.Spec.Containers {
		k := sb.key + "/" + c.Name
		if b, ok := p.logs[k]; ok && b == sb.logs[c.Name] {
			delete(p.logs, k)
		}
	}
}

func (p *Podlet) bind(ctx context.Context, pod *corev1.Pod) error {
	err := p.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: p.cfg.NodeName},
	}, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // deleted, or bound meanwhile: the next event tells
	}
	if err == nil {
		p.log.Info("pod bound", "pod", pod.Namespace+"/"+pod.Name)
	}
	return err
}

// finalizeDeletion removes the Pod object once its processes and namespace are
// gone; without it namespace deletion (the suite's cleanup) never finishes.
func (p *Podlet) finalizeDeletion(ctx context.Context, pod *corev1.Pod) error {
	zero := int64(0)
	uid := pod.UID
	err := p.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err == nil {
		p.log.Info("pod deleted", "pod", pod.Namespace+"/"+pod.Name)
	}
	return err
}

// patchStatus merges status into the pod's status subresource.
func (p *Podlet) patchStatus(ctx context.Context, ns, name string, uid types.UID, status *corev1.PodStatus) error {
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": uid},
		"status":   status,
	})
	if err != nil {
		return err
	}
	_, err = p.client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{}, "status")
	return err
}

// binaryFor says which images the podlet can run and with what: the conformance
// echo backend, and the images of ImageBinaries. echo-advanced is used only by
// the mesh profiles and is not run. "" means nothing runs for the image.
func (p *Podlet) binaryFor(image string) string {
	if strings.Contains(image, "echo-basic") {
		return p.cfg.EchoBinary
	}
	return p.cfg.ImageBinaries[ImageRepository(image)]
}

// ImageRepository is an image reference without its tag or digest.
func ImageRepository(image string) string {
	if at := strings.IndexByte(image, '@'); at >= 0 {
		image = image[:at]
	}
	// A colon after the last slash starts the tag (one before it is a registry port).
	if colon := strings.LastIndexByte(image, ':'); colon > strings.LastIndexByte(image, '/') {
		image = image[:colon]
	}
	return image
}

// CleanupState removes what a previous podlet left behind in stateDir: processes
// by recorded PID, pod namespaces by recorded name. Used at start-up and by tests.
func CleanupState(stateDir string, net Network, netnsPrefix string, log *slog.Logger) {
	if ents, err := os.ReadDir(filepath.Join(stateDir, "pids")); err == nil {
		for _, e := range ents {
			var pid int
			if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err == nil && pid > 1 {
				exe, _ := os.ReadFile(filepath.Join(stateDir, "pids", e.Name()))
				killRecorded(pid, strings.TrimSpace(string(exe)))
			}
			os.Remove(filepath.Join(stateDir, "pids", e.Name()))
		}
	}
	if ents, err := os.ReadDir(filepath.Join(stateDir, "netns")); err == nil {
		for _, e := range ents {
			id := strings.TrimPrefix(e.Name(), netnsPrefix)
			if err := net.Teardown(id); err != nil {
				log.Warn("stale pod namespace", "netns", e.Name(), "err", err)
			}
		}
	}
}

func (p *Podlet) heartbeat(ctx context.Context) {
	leaseTick := time.NewTicker(10 * time.Second)
	defer leaseTick.Stop()
	nodeEvery := 4 // node status every 4th lease renewal
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-leaseTick.C:
		}
		if err := p.renewLease(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("lease renewal failed", "err", err)
		}
		if i%nodeEvery == 0 {
			if err := p.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("node status update failed", "err", err)
			}
		}
	}
}

// retry runs fn until it succeeds or ctx ends, with capped backoff.
func retry(ctx context.Context, fn func() error) error {
	backoff := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Cap: 2 * time.Second, Steps: 1 << 30}
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, backoff, func(context.Context) (bool, error) {
		last = fn()
		return last == nil, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}
