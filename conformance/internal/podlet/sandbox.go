package podlet

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Network gives each pod its own network namespace with one address. The real
// implementation drives iproute2; tests use a fake.
type Network interface {
	// Setup creates the pod's namespace and link with addr. It replaces whatever a
	// previous podlet left under the same id.
	Setup(id string, addr netip.Addr) error
	// Teardown removes the namespace and link; it succeeds when they are already gone.
	Teardown(id string) error
	// Netns is the path of the pod's network namespace ("" for host-network pods).
	Netns(id string) string
}

// IPRoute is the Network on a Linux bridge: netns NetnsPrefix+id, a veth pair
// (VethPrefix+id on the bridge, eth0 in the pod) and a default route via Gateway.
// The podlet itself runs in the namespace that holds the bridge.
type IPRoute struct {
	Bridge      string
	PrefixLen   int // of the pod network, e.g. 16 for 10.244.0.0/16
	Gateway     netip.Addr
	NetnsPrefix string // e.g. "p-"
	VethPrefix  string // e.g. "v-"
	// StateDir/netns/<name> records every namespace created, so that cluster
	// teardown finds them even when the podlet is gone.
	StateDir string
}

func (n *IPRoute) netnsName(id string) string { return n.NetnsPrefix + id }

// Netns implements Network.
func (n *IPRoute) Netns(id string) string { return "/run/netns/" + n.netnsName(id) }

func ip(args ...string) error {
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Setup implements Network.
func (n *IPRoute) Setup(id string, addr netip.Addr) error {
	ns, veth := n.netnsName(id), n.VethPrefix+id
	_ = n.Teardown(id)
	if err := os.MkdirAll(filepath.Join(n.StateDir, "netns"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.StateDir, "netns", ns), nil, 0o644); err != nil {
		return err
	}
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", n.Bridge, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", addr, n.PrefixLen), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", "default", "via", n.Gateway.String()},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// LinkExists reports whether a link of that name exists in the caller's network namespace.
func LinkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

// Teardown implements Network.
func (n *IPRoute) Teardown(id string) error {
	ns, veth := n.netnsName(id), n.VethPrefix+id
	var errs []string
	// /sys shows the namespace sysfs was mounted for, not ours: ask netlink.
	if LinkExists(veth) {
		if err := ip("link", "del", veth); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if _, err := os.Stat(n.Netns(id)); err == nil {
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	os.Remove(filepath.Join(n.StateDir, "netns", ns))
	return nil
}

// ProcSpec is one container process.
type ProcSpec struct {
	Netns  string // network namespace path, "" for the podlet's own
	Path   string
	Args   []string
	Env    []string // the whole environment (nothing is inherited)
	Output io.Writer
}

// Proc is a started process.
type Proc interface {
	Pid() int
	// Wait blocks until the process exits and returns its exit code.
	Wait() int
	// Kill stops the process group: SIGTERM, then SIGKILL after grace.
	Kill(grace time.Duration)
}

// Runner starts container processes.
type Runner interface {
	Start(spec ProcSpec) (Proc, error)
}

// ExecRunner starts processes with nsenter into the pod's network namespace, in
// their own process group, recording each PID under StateDir/pids so cluster
// teardown can stop them by PID if the podlet itself is gone.
type ExecRunner struct {
	StateDir string
}

type execProc struct {
	cmd      *exec.Cmd
	done     chan struct{}
	code     int
	pidFile  string
}

// Start implements Runner.
func (r *ExecRunner) Start(spec ProcSpec) (Proc, error) {
	var cmd *exec.Cmd
	if spec.Netns != "" {
		// nsenter execs the target, so the PID we record is the container process.
		args := append([]string{"--net=" + spec.Netns, "--", spec.Path}, spec.Args...)
		cmd = exec.Command("nsenter", args...)
	} else {
		cmd = exec.Command(spec.Path, spec.Args...)
	}
	cmd.Env = spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = "/"
	cmd.Stdout = spec.Output
	cmd.Stderr = spec.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &execProc{cmd: cmd, done: make(chan struct{})}
	if r.StateDir != "" {
		dir := filepath.Join(r.StateDir, "pids")
		if os.MkdirAll(dir, 0o755) == nil {
			p.pidFile = filepath.Join(dir, strconv.Itoa(cmd.Process.Pid))
			// The file holds the executable, so teardown can check the PID was not reused.
			exe, _ := filepath.EvalSymlinks(spec.Path)
			os.WriteFile(p.pidFile, []byte(exe+"\n"), 0o644)
		}
	}
	go func() {
		err := cmd.Wait()
		p.code = 0
		if err != nil {
			p.code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				p.code = ee.ExitCode()
			}
		}
		if p.pidFile != "" {
			os.Remove(p.pidFile)
		}
		close(p.done)
	}()
	return p, nil
}

func (p *execProc) Pid() int { return p.cmd.Process.Pid }

func (p *execProc) Wait() int {
	<-p.done
	return p.code
}

func (p *execProc) Kill(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}
