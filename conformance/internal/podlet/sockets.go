package podlet

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sockets summarises what a process's network namespace listens on.
type Sockets struct {
	TCPListen []int // ports in LISTEN state
	UDPBound  []int // bound UDP ports
}

// Listening reports whether anything accepts traffic.
func (s Sockets) Listening() bool { return len(s.TCPListen) > 0 || len(s.UDPBound) > 0 }

const tcpListenState = "0A" // include/net/tcp_states.h TCP_LISTEN

// SocketRow is one row of a /proc/net socket table.
type SocketRow struct {
	Port  int
	Inode uint64
}

// ParseProcNet reads a /proc/net/{tcp,tcp6,udp,udp6} table and returns the rows in
// state (empty state: every row) that have a local port.
func ParseProcNet(r io.Reader, state string) []SocketRow {
	var rows []SocketRow
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		if state != "" && f[3] != state {
			continue
		}
		_, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil || p == 0 {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		rows = append(rows, SocketRow{Port: int(p), Inode: inode})
	}
	return rows
}

// socketInodes returns the inodes of the sockets pid has open.
func socketInodes(pid int) map[uint64]bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(l[len("socket:["):], "]"), 10, 64); err == nil {
			out[n] = true
		}
	}
	return out
}

// ProcessSockets returns the sockets pid itself listens on (several containers of
// one pod share a network namespace, so the namespace's tables alone do not say
// which process is ready).
func ProcessSockets(pid int) Sockets {
	var s Sockets
	mine := socketInodes(pid)
	dir := filepath.Join("/proc", strconv.Itoa(pid), "net")
	read := func(name, state string) []int {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		defer f.Close()
		var ports []int
		for _, r := range ParseProcNet(f, state) {
			if mine[r.Inode] {
				ports = append(ports, r.Port)
			}
		}
		return ports
	}
	s.TCPListen = append(read("tcp", tcpListenState), read("tcp6", tcpListenState)...)
	s.UDPBound = append(read("udp", ""), read("udp6", "")...)
	return s
}
