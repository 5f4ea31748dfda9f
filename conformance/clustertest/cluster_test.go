// Package clustertest checks the local conformance cluster end to end, without the
// suite: the upstream base manifests come up (every pod Ready, every Service with
// EndpointSlices carrying the pods' IPs), each echo backend answers with its own pod
// name and namespace, container logs are served with sinceTime, and namespace
// deletion finishes. conformance/scripts/cluster-test.sh runs it inside the
// cluster's network namespace against a cluster it brought up; elsewhere it skips.
package clustertest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	pb "sigs.k8s.io/gateway-api-conformance-images/echo-basic/grpcechoserver"
	v1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	kube "sigs.k8s.io/gateway-api/conformance/utils/kubernetes"
)

var namespaces = []string{"gateway-conformance-infra", "gateway-conformance-app-backend", "gateway-conformance-web-backend"}

func TestBaseManifests(t *testing.T) {
	kubeconfig := os.Getenv("GATEHOUSE_CLUSTER_TEST_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("needs a local cluster: run conformance/scripts/cluster-test.sh")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	must(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	must(t, err)
	c, err := client.New(cfg, client.Options{})
	must(t, err)
	must(t, v1.Install(c.Scheme()))
	ctx := t.Context()

	// The base manifests, applied by the suite's own applier.
	applier := kube.Applier{ManifestFS: []fs.FS{&conformance.Manifests}, GatewayClass: "gatehouse", ControllerName: "gatehouse.dev/gateway-controller"}
	applier.MustApplyWithCleanup(t, c, config.DefaultTimeoutConfig(), "base/manifests.yaml", false)

	// The suite creates the Secrets the TLS backends mount after the manifests; so
	// does this test, to check that the podlet waits for them.
	time.Sleep(2 * time.Second)
	for _, ns := range namespaces {
		deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, d := range deps.Items {
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Secret == nil {
					continue
				}
				s := kube.MustCreateSelfSignedCertSecret(t, ns, v.Secret.SecretName, []string{"abc.example.com"})
				if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatalf("secret %s/%s: %v", ns, v.Secret.SecretName, err)
				}
			}
		}
	}

	t.Run("DeploymentsAvailable", func(t *testing.T) {
		err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			for _, ns := range namespaces {
				deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return false, nil
				}
				for _, d := range deps.Items {
					if d.Status.ReadyReplicas != replicas(&d) || d.Status.UpdatedReplicas != replicas(&d) {
						t.Logf("waiting for %s/%s: %d/%d ready", ns, d.Name, d.Status.ReadyReplicas, replicas(&d))
						return false, nil
					}
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("deployments not available: %v", err)
		}
	})

	pods := map[string][]corev1.Pod{}
	for _, ns := range namespaces {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		pods[ns] = list.Items
		if len(list.Items) == 0 {
			t.Fatalf("no pods in %s", ns)
		}
	}

	t.Run("PodsReadyWithAddresses", func(t *testing.T) {
		seen := map[string]string{}
		for _, ns := range namespaces {
			for _, p := range pods[ns] {
				if !podReady(&p) {
					t.Errorf("%s/%s not Ready", ns, p.Name)
				}
				ip := net.ParseIP(p.Status.PodIP)
				if ip == nil || ip.IsLoopback() || !strings.HasPrefix(p.Status.PodIP, "10.244.") {
					t.Errorf("%s/%s has pod IP %q, want one from 10.244.0.0/16", ns, p.Name, p.Status.PodIP)
				}
				if other, dup := seen[p.Status.PodIP]; dup {
					t.Errorf("%s/%s and %s share %s", ns, p.Name, other, p.Status.PodIP)
				}
				seen[p.Status.PodIP] = ns + "/" + p.Name
			}
		}
	})

	t.Run("EndpointSlicesCarryPodIPs", func(t *testing.T) {
		for _, ns := range namespaces {
			svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			must(t, err)
			for _, svc := range svcs.Items {
				want := sets.New[string]()
				for _, p := range pods[ns] {
					if len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels)) {
						want.Insert(p.Status.PodIP)
					}
				}
				var got sets.Set[string]
				err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
					got = sliceAddresses(ctx, cs, ns, svc.Name)
					return got.Equal(want), nil
				})
				if err != nil || want.Len() == 0 {
					t.Errorf("service %s/%s: EndpointSlices have %v, pods are %v", ns, svc.Name, sets.List(got), sets.List(want))
				}
			}
		}
	})

	// sinceTime has one-second resolution: start at the next full second, after
	// every pod's start-up lines, and send nothing before it.
	start := metav1.NewTime(time.Now().Truncate(time.Second).Add(time.Second))
	time.Sleep(time.Until(start.Time) + 50*time.Millisecond)
	t.Run("EchoIdentity", func(t *testing.T) {
		for _, ns := range namespaces {
			for _, p := range pods[ns] {
				t.Run(p.Name, func(t *testing.T) {
					gotPod, gotNS, err := echo(ctx, &p)
					if err != nil {
						t.Fatalf("%s/%s (%s): %v", ns, p.Name, p.Status.PodIP, err)
					}
					if gotPod != p.Name || gotNS != ns {
						t.Errorf("%s/%s answered as %s/%s", ns, p.Name, gotNS, gotPod)
					}
				})
			}
		}
	})

	t.Run("ContainerLogsSinceTime", func(t *testing.T) {
		n := 0
		for _, ns := range namespaces {
			for _, p := range pods[ns] {
				if mode(&p.Spec.Containers[0]) != "http" {
					continue
				}
				n++
				c := p.Spec.Containers[0].Name
				req := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: c, SinceTime: &start})
				body, err := req.DoRaw(ctx)
				if err != nil {
					t.Errorf("%s/%s logs: %v", ns, p.Name, err)
					continue
				}
				if !strings.Contains(string(body), "Echoing back request made to /clustertest") {
					t.Errorf("%s/%s logs since %s lack the echo line: %q", ns, p.Name, start.Format(time.RFC3339), body)
				}
				if strings.Contains(string(body), "Starting server") {
					t.Errorf("%s/%s logs since %s include start-up lines from before it", ns, p.Name, start.Format(time.RFC3339))
				}
			}
		}
		if n == 0 {
			t.Fatal("no HTTP echo pods")
		}
	})

	// Two of the three namespaces: the infra pods stay for the teardown check
	// (cluster-test.sh), which must remove running pods too.
	t.Run("NamespaceDeletionFinishes", func(t *testing.T) {
		deleted := namespaces[1:]
		for _, ns := range deleted {
			must(t, cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}))
		}
		err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			for _, ns := range deleted {
				if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("namespaces not deleted within 2m: %v", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sliceAddresses(ctx context.Context, cs kubernetes.Interface, ns, svc string) sets.Set[string] {
	out := sets.New[string]()
	list, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return out
	}
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			out.Insert(e.Addresses...)
		}
	}
	return out
}

// mode is how an echo-basic container serves, from its environment.
func mode(c *corev1.Container) string {
	for _, e := range c.Env {
		switch e.Name {
		case "GRPC_ECHO_SERVER":
			return "grpc"
		case "TCP_ECHO_SERVER":
			return "tcp"
		case "UDP_ECHO_SERVER":
			return "udp"
		}
	}
	return "http"
}

type identity struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
}

// echo asks the pod's echo server who it is, in the protocol it speaks.
func echo(ctx context.Context, p *corev1.Pod) (string, string, error) {
	ip := p.Status.PodIP
	var id identity
	switch mode(&p.Spec.Containers[0]) {
	case "http":
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + net.JoinHostPort(ip, "3000") + "/clustertest")
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&id); err != nil {
			return "", "", err
		}
		if slices.ContainsFunc(p.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == "TLS_SERVER_CERT" }) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // self-signed test cert
			resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: tr}).Get("https://" + net.JoinHostPort(ip, "8443") + "/clustertest")
			if err != nil {
				return "", "", fmt.Errorf("https: %w", err)
			}
			defer resp.Body.Close()
			var tid identity
			if err := json.NewDecoder(resp.Body).Decode(&tid); err != nil || tid != id {
				return "", "", fmt.Errorf("https answered %+v (%v), http %+v", tid, err, id)
			}
		}
	case "grpc":
		conn, err := grpc.NewClient(net.JoinHostPort(ip, "3000"), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return "", "", err
		}
		defer conn.Close()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		resp, err := pb.NewGrpcEchoClient(conn).Echo(cctx, &pb.EchoRequest{})
		if err != nil {
			return "", "", err
		}
		return resp.GetAssertions().GetContext().GetPod(), resp.GetAssertions().GetContext().GetNamespace(), nil
	case "tcp":
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "3000"), 5*time.Second)
		if err != nil {
			return "", "", err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "TEST\n")
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "{") {
				err := json.Unmarshal(sc.Bytes(), &id)
				return id.Pod, id.Namespace, err
			}
		}
		return "", "", fmt.Errorf("no JSON line: %v", sc.Err())
	case "udp":
		conn, err := net.DialTimeout("udp", net.JoinHostPort(ip, "8080"), 5*time.Second)
		if err != nil {
			return "", "", err
		}
		defer conn.Close()
		buf := make([]byte, 4096)
		// UDP may drop the first datagram while neighbours resolve: retry a few times.
		for i := 0; i < 5; i++ {
			conn.SetDeadline(time.Now().Add(time.Second))
			io.WriteString(conn, "clustertest")
			n, err := conn.Read(buf)
			if err == nil {
				err = json.Unmarshal(buf[:n], &id)
				return id.Pod, id.Namespace, err
			}
		}
		return "", "", fmt.Errorf("no UDP answer")
	}
	return id.Pod, id.Namespace, nil
}
