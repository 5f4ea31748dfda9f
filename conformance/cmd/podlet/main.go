// Command podlet is the node agent of the local conformance cluster: kubelet,
// scheduler and CNI for one node, just enough for the upstream Gateway API suite
// (see conformance/internal/podlet). It runs inside the cluster network namespace,
// next to the bridge its pods attach to.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"gatehouse.dev/gatehouse/conformance/internal/podlet"
)

func main() {
	var (
		kubeconfig    = flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
		nodeName      = flag.String("node-name", "local-node", "name of the Node to register")
		nodeIP        = flag.String("node-ip", "10.244.0.1", "the node's address: the bridge address, the pods' gateway and where the kubelet endpoint listens")
		kubeletPort   = flag.Int("kubelet-port", 10250, "port of the kubelet endpoint (container logs)")
		pool          = flag.String("pod-pool", "10.244.1.1-10.244.15.254", "pod addresses, FIRST-LAST")
		prefixLen     = flag.Int("pod-prefix-len", 16, "prefix length of the pod network (the bridge's)")
		bridge        = flag.String("bridge", "cni0", "bridge the pods' veths attach to")
		netnsPrefix   = flag.String("netns-prefix", "p-", "prefix of pod network namespace names")
		vethPrefix    = flag.String("veth-prefix", "v-", "prefix of the host-side veth names")
		echoBinary    = flag.String("echo-binary", "", "the echo-basic binary run for echo-basic images (required)")
		stateDir      = flag.String("state-dir", "", "directory for volumes, logs and teardown records (required)")
		workers       = flag.Int("workers", 4, "pods synced concurrently")
		skipPreflight = flag.Bool("skip-preflight", false, "do not check that the bridge exists")
		images        = map[string]string{}
	)
	flag.Func("image-binary", "REPOSITORY=PATH: run PATH (with the container's args) for images of REPOSITORY, e.g. gatehouse.dev/gatehouse-proxy=_out/bin/gatehouse-proxy (repeatable)",
		func(v string) error {
			repo, path, ok := strings.Cut(v, "=")
			if !ok || repo == "" || path == "" {
				return errors.New("want REPOSITORY=PATH")
			}
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			images[repo] = abs
			return nil
		})
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, *kubeconfig, *nodeName, *nodeIP, *kubeletPort, *pool, *prefixLen, *bridge,
		*netnsPrefix, *vethPrefix, *echoBinary, images, *stateDir, *workers, *skipPreflight); err != nil {
		log.Error("podlet failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, kubeconfig, nodeName, nodeIPs string, kubeletPort int, poolSpec string, prefixLen int,
	bridge, netnsPrefix, vethPrefix, echoBinary string, images map[string]string, stateDir string, workers int, skipPreflight bool) error {
	if kubeconfig == "" || echoBinary == "" || stateDir == "" {
		return errors.New("--kubeconfig, --echo-binary and --state-dir are required")
	}
	nodeIP, err := netip.ParseAddr(nodeIPs)
	if err != nil {
		return fmt.Errorf("--node-ip: %w", err)
	}
	pool, err := podlet.ParseIPPool(poolSpec)
	if err != nil {
		return err
	}
	if echoBinary, err = filepath.Abs(echoBinary); err != nil {
		return err
	}
	if _, err := os.Stat(echoBinary); err != nil {
		return fmt.Errorf("--echo-binary: %w", err)
	}
	for repo, path := range images {
		// Built later is fine (the pod restarts until it exists); say so now.
		if _, err := os.Stat(path); err != nil {
			log.Warn("image binary missing", "image", repo, "path", path)
		}
	}
	if !skipPreflight {
		if !podlet.LinkExists(bridge) {
			return fmt.Errorf("bridge %s not found: the podlet must run in the cluster network namespace", bridge)
		}
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "podlet"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	network := &podlet.IPRoute{
		Bridge: bridge, PrefixLen: prefixLen, Gateway: nodeIP,
		NetnsPrefix: netnsPrefix, VethPrefix: vethPrefix, StateDir: stateDir,
	}
	podlet.CleanupState(stateDir, network, netnsPrefix, log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	pl := podlet.New(podlet.Config{
		NodeName: nodeName, NodeIP: nodeIP, KubeletPort: kubeletPort, Pool: pool,
		EchoBinary: echoBinary, ImageBinaries: images, StateDir: stateDir, Workers: workers,
	}, client, network, &podlet.ExecRunner{StateDir: stateDir}, log)

	srv, err := serveKubelet(log, netip.AddrPortFrom(nodeIP, uint16(kubeletPort)), nodeIP,
		podlet.LogHandler(pl.Logs, time.Now))
	if err != nil {
		return err
	}
	defer srv.Close()

	err = pl.Run(ctx)
	log.Info("podlet stopped")
	return err
}

// serveKubelet serves the kubelet API subset on addr with a throwaway self-signed
// certificate: the apiserver does not verify kubelets without --kubelet-certificate-authority.
func serveKubelet(log *slog.Logger, addr netip.AddrPort, ip netip.Addr, h http.Handler) (*http.Server, error) {
	cert, err := selfSigned(ip)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("kubelet endpoint failed", "err", err)
		}
	}()
	log.Info("kubelet endpoint listening", "addr", addr.String())
	return srv, nil
}

func selfSigned(ip netip.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "podlet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{ip.AsSlice()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
