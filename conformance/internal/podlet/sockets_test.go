package podlet

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

const procNetTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 142006 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 142007 1 0000000000000000 20 4 30 10 -1
`

func TestParseProcNet(t *testing.T) {
	rows := ParseProcNet(strings.NewReader(procNetTCP), tcpListenState)
	if len(rows) != 1 || rows[0].Port != 3000 || rows[0].Inode != 142006 {
		t.Errorf("listen rows = %+v, want port 3000 inode 142006", rows)
	}
	if all := ParseProcNet(strings.NewReader(procNetTCP), ""); len(all) != 2 {
		t.Errorf("all rows = %+v", all)
	}
}

func TestProcessSocketsSeesOwnListeners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	s := ProcessSockets(os.Getpid())
	if !slices.Contains(s.TCPListen, ln.Addr().(*net.TCPAddr).Port) {
		t.Errorf("TCP listeners %v lack %v", s.TCPListen, ln.Addr())
	}
	if !slices.Contains(s.UDPBound, udp.LocalAddr().(*net.UDPAddr).Port) {
		t.Errorf("UDP sockets %v lack %v", s.UDPBound, udp.LocalAddr())
	}
	if ProcessSockets(1 << 30).Listening() {
		t.Error("a process that does not exist listens")
	}
}
