package podlet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// sandbox is one pod on this node: its network namespace, its container processes
// and the status the podlet last reported for it. One goroutine (run) owns it.
type sandbox struct {
	p      *Podlet
	pod    *corev1.Pod // as first seen; the spec of a pod does not change
	key    string
	uid    types.UID
	id     string // short id for namespace and link names
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	logs map[string]*LogBuffer // by container name

	mu         sync.Mutex
	ip         netip.Addr
	started    time.Time
	waiting    string // why containers are not started yet
	containers map[string]*container
	changed    chan struct{}
	lastStatus []byte
	transition map[corev1.PodConditionType]conditionState
}

type conditionState struct {
	status corev1.ConditionStatus
	since  metav1.Time
}

// container is the runtime state of one container.
type container struct {
	spec      corev1.Container
	hasProc   bool   // a known image: a process runs; other images: nothing runs
	binary    string // what runs for a known image
	proc      Proc
	startedAt time.Time
	ready     bool
	restarts  int32
	lastExit  *corev1.ContainerStateTerminated
	exited    *corev1.ContainerStateTerminated // final exit (restartPolicy != Always)
}

func newSandbox(p *Podlet, pod *corev1.Pod) *sandbox {
	ctx, cancel := context.WithCancel(context.Background())
	sb := &sandbox{
		p: p, pod: pod.DeepCopy(), key: pod.Namespace + "/" + pod.Name, uid: pod.UID,
		id:  shortID(pod.UID),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		logs:       map[string]*LogBuffer{},
		containers: map[string]*container{},
		changed:    make(chan struct{}, 1),
		transition: map[corev1.PodConditionType]conditionState{},
	}
	logDir := filepath.Join(p.cfg.StateDir, "logs")
	os.MkdirAll(logDir, 0o755)
	for _, c := range pod.Spec.Containers {
		f, _ := os.OpenFile(filepath.Join(logDir, fmt.Sprintf("%s_%s_%s.log", pod.Namespace, pod.Name, c.Name)),
			os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		sb.logs[c.Name] = NewLogBuffer(20000, f)
		bin := p.binaryFor(c.Image)
		sb.containers[c.Name] = &container{spec: c, hasProc: bin != "", binary: bin}
	}
	return sb
}

// shortID is 8 hex digits of the UID: namespace and link names must stay short
// (interface names have 15 bytes).
func shortID(uid types.UID) string {
	s := strings.ReplaceAll(string(uid), "-", "")
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	return s
}

// stop ends the pod and waits until its processes and namespace are gone.
func (sb *sandbox) stop() {
	sb.cancel()
	<-sb.done
}

func (sb *sandbox) notify() {
	select {
	case sb.changed <- struct{}{}:
	default:
	}
}

func (sb *sandbox) run() {
	p := sb.p
	log := p.log.With("pod", sb.key)
	defer func() {
		sb.teardown()
		p.forget(sb)
		for _, b := range sb.logs {
			b.Close()
		}
		close(sb.done)
	}()
	sb.started = p.now()

	// Network first: the pod's address is in its status and in every EndpointSlice.
	hostNet := sb.pod.Spec.HostNetwork
	if hostNet {
		sb.ip = p.cfg.NodeIP
	} else {
		addr, err := sb.allocate()
		if err != nil {
			log.Error("no pod address", "err", err)
			return
		}
		sb.ip = addr
		if err := retry(sb.ctx, func() error {
			err := p.net.Setup(sb.id, addr)
			if err != nil {
				log.Warn("network setup failed", "err", err)
			}
			return err
		}); err != nil {
			return
		}
	}
	log.Info("pod network ready", "ip", sb.ip.String())
	sb.report()

	// Volumes and environments; Secrets the suite creates later are waited for.
	podDir := filepath.Join(p.cfg.StateDir, "pods", string(sb.uid))
	specs := map[string]ProcSpec{}
	for {
		var err error
		specs, err = sb.prepare(podDir)
		if err == nil {
			break
		}
		sb.mu.Lock()
		changed := sb.waiting != err.Error()
		sb.waiting = err.Error()
		sb.mu.Unlock()
		if changed {
			log.Info("pod waiting", "reason", err.Error())
			sb.report()
		}
		if !IsWaiting(err) {
			log.Error("pod cannot start", "err", err)
		}
		select {
		case <-sb.ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	sb.mu.Lock()
	sb.waiting = ""
	sb.mu.Unlock()

	var supervisors sync.WaitGroup
	for name, c := range sb.containers {
		if !c.hasProc {
			c.ready = true
			c.startedAt = p.now()
			continue
		}
		supervisors.Add(1)
		go func(c *container, spec ProcSpec) {
			defer supervisors.Done()
			sb.supervise(c, spec)
		}(c, specs[name])
	}
	sb.report()

	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-sb.ctx.Done():
			supervisors.Wait()
			return
		case <-sb.changed:
		case <-tick.C:
		}
		sb.probe()
		sb.report()
	}
}

// allocate keeps the address a pod already has (podlet restart), else picks one.
func (sb *sandbox) allocate() (netip.Addr, error) {
	pool := sb.p.cfg.Pool
	if a, err := netip.ParseAddr(sb.pod.Status.PodIP); err == nil && pool.Claim(string(sb.uid), a) == nil {
		return a, nil
	}
	return pool.Allocate(string(sb.uid))
}

// prepare writes the volumes and computes every process container's command line.
func (sb *sandbox) prepare(podDir string) (map[string]ProcSpec, error) {
	p := sb.p
	volDirs, err := MaterializeVolumes(sb.pod, filepath.Join(podDir, "volumes"), p)
	if err != nil {
		return nil, err
	}
	addrs := PodAddresses{PodIP: sb.ip.String(), HostIP: p.cfg.NodeIP.String()}
	netns := ""
	if !sb.pod.Spec.HostNetwork {
		netns = p.net.Netns(sb.id)
	}
	specs := map[string]ProcSpec{}
	for name, c := range sb.containers {
		if !c.hasProc {
			continue
		}
		env, err := ContainerEnv(sb.pod, &c.spec, addrs, p)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", name, err)
		}
		rw := MountRewriter(&c.spec, volDirs)
		vars := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		var args []string
		for _, a := range c.spec.Args {
			args = append(args, rw(Expand(a, vars)))
		}
		specs[name] = ProcSpec{
			Netns: netns, Path: c.binary, Args: args,
			Env:    RewriteEnv(env, rw),
			Output: &lineWriter{buf: sb.logs[name], now: p.now},
		}
	}
	return specs, nil
}

// supervise runs one container process, restarting it like restartPolicy says.
func (sb *sandbox) supervise(c *container, spec ProcSpec) {
	p := sb.p
	log := p.log.With("pod", sb.key, "container", c.spec.Name)
	backoff := time.Second
	for {
		proc, err := p.runner.Start(spec)
		if err != nil {
			log.Error("start failed", "err", err)
		} else {
			sb.mu.Lock()
			c.proc, c.startedAt, c.ready = proc, p.now(), false
			sb.mu.Unlock()
			log.Info("container started", "pid", proc.Pid())
			sb.notify()
			exited := make(chan int, 1)
			go func() { exited <- proc.Wait() }()
			select {
			case <-sb.ctx.Done():
				proc.Kill(2 * time.Second)
				return
			case code := <-exited:
				term := &corev1.ContainerStateTerminated{
					ExitCode: int32(code), Reason: "Error",
					StartedAt: metav1.NewTime(c.startedAt), FinishedAt: metav1.NewTime(p.now()),
				}
				if code == 0 {
					term.Reason = "Completed"
				}
				log.Warn("container exited", "code", code)
				if lw, ok := spec.Output.(*lineWriter); ok {
					lw.flush()
				}
				sb.mu.Lock()
				c.proc, c.ready, c.lastExit = nil, false, term
				policy := sb.pod.Spec.RestartPolicy
				if policy == corev1.RestartPolicyNever || (policy == corev1.RestartPolicyOnFailure && code == 0) {
					c.exited = term
					sb.mu.Unlock()
					sb.notify()
					return
				}
				c.restarts++
				sb.mu.Unlock()
				sb.notify()
			}
		}
		select {
		case <-sb.ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

// probe marks a running container ready once its process listens on a socket
// (TCP listen or bound UDP): the pods carry no readiness probes, and an echo server
// that does not accept yet must not become an endpoint.
func (sb *sandbox) probe() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, c := range sb.containers {
		if c.proc == nil || c.ready {
			continue
		}
		if ProcessSockets(c.proc.Pid()).Listening() {
			c.ready = true
		}
	}
}

// status computes the pod status from the sandbox state.
func (sb *sandbox) status() *corev1.PodStatus {
	p := sb.p
	sb.mu.Lock()
	defer sb.mu.Unlock()
	st := &corev1.PodStatus{
		HostIP:    p.cfg.NodeIP.String(),
		HostIPs:   []corev1.HostIP{{IP: p.cfg.NodeIP.String()}},
		StartTime: &metav1.Time{Time: sb.started.Truncate(time.Second)},
	}
	if sb.ip.IsValid() {
		st.PodIP = sb.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: sb.ip.String()}}
	}
	allReady, anyRunning, allExited, anyFailed := true, false, true, false
	for _, spec := range sb.pod.Spec.Containers {
		c := sb.containers[spec.Name]
		cs := corev1.ContainerStatus{
			Name: spec.Name, Image: spec.Image, ImageID: spec.Image,
			RestartCount: c.restarts, Ready: c.ready,
		}
		if c.lastExit != nil && c.exited == nil {
			cs.LastTerminationState.Terminated = c.lastExit
		}
		running := !c.startedAt.IsZero() && (c.proc != nil || !c.hasProc) && c.exited == nil
		switch {
		case c.exited != nil:
			cs.State.Terminated = c.exited
			if c.exited.ExitCode != 0 {
				anyFailed = true
			}
		case running:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt.Truncate(time.Second))}
			cs.ContainerID = "podlet://" + sb.id + "-" + spec.Name
			anyRunning = true
		case sb.waiting != "":
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: sb.waiting}
		case c.lastExit != nil:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		started := running
		cs.Started = &started
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		allReady = allReady && c.ready && running
		allExited = allExited && c.exited != nil
	}
	switch {
	case allExited && anyFailed:
		st.Phase = corev1.PodFailed
	case allExited:
		st.Phase = corev1.PodSucceeded
	case anyRunning:
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		prev, seen := sb.transition[t]
		if !seen || prev.status != s {
			prev = conditionState{status: s, since: metav1.NewTime(p.now().Truncate(time.Second))}
			sb.transition[t] = prev
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: prev.since}
	}
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, sb.ip.IsValid()),
		cond(corev1.PodInitialized, true),
		cond(corev1.ContainersReady, allReady),
		cond(corev1.PodReady, allReady),
		cond(corev1.PodScheduled, true),
	}
	return st
}

// report patches the pod status when it differs from what was last reported.
func (sb *sandbox) report() {
	st := sb.status()
	body, _ := json.Marshal(st)
	sb.mu.Lock()
	same := string(body) == string(sb.lastStatus)
	sb.mu.Unlock()
	if same || sb.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(sb.ctx, 10*time.Second)
	defer cancel()
	if err := sb.p.patchStatus(ctx, sb.pod.Namespace, sb.pod.Name, sb.uid, st); err != nil {
		if sb.ctx.Err() == nil {
			sb.p.log.Warn("status patch failed", "pod", sb.key, "err", err)
		}
		return
	}
	ready := false
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	sb.p.log.Info("pod status", "pod", sb.key, "phase", string(st.Phase), "ready", ready, "ip", st.PodIP)
	sb.mu.Lock()
	sb.lastStatus = body
	sb.mu.Unlock()
}

// teardown kills what is left and removes the namespace and address.
func (sb *sandbox) teardown() {
	sb.mu.Lock()
	var procs []Proc
	for _, c := range sb.containers {
		if c.proc != nil {
			procs = append(procs, c.proc)
		}
	}
	sb.mu.Unlock()
	for _, pr := range procs {
		pr.Kill(2 * time.Second)
	}
	if !sb.pod.Spec.HostNetwork && sb.ip.IsValid() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := retry(ctx, func() error { return sb.p.net.Teardown(sb.id) }); err != nil {
			sb.p.log.Error("network teardown failed", "pod", sb.key, "err", err)
		}
		cancel()
	}
	sb.p.cfg.Pool.Release(string(sb.uid))
	os.RemoveAll(filepath.Join(sb.p.cfg.StateDir, "pods", string(sb.uid)))
}

// lineWriter splits a process's output into lines for its LogBuffer.
type lineWriter struct {
	mu      sync.Mutex
	buf     *LogBuffer
	now     func() time.Time
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := append(w.partial, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		w.buf.Add(w.now(), string(data[:i]))
		data = data[i+1:]
	}
	w.partial = append([]byte(nil), data...)
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.buf.Add(w.now(), string(w.partial))
		w.partial = nil
	}
}

// killRecorded kills the process group of pid if pid still runs exe (a PID from a
// record may have been reused by an unrelated process since).
func killRecorded(pid int, exe string) {
	if exe == "" {
		return
	}
	if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || got != exe {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
