package podlet

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	leaseNamespace = "kube-node-lease"
	leaseSeconds   = int32(40)
)

// nodeStatus is the status the podlet reports: Ready, generous capacity, the node
// address the apiserver uses for logs (InternalIP only, so it never picks a name).
func (p *Podlet) nodeStatus() corev1.NodeStatus {
	now := metav1.NewTime(p.now())
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("64"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("1000"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, corev1.ConditionTrue, "PodletReady"),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "PodletHasSufficientMemory"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "PodletHasNoDiskPressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "PodletHasSufficientPID"),
			cond(corev1.NodeNetworkUnavailable, corev1.ConditionFalse, "PodletNetworkReady"),
		},
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: p.cfg.NodeIP.String()}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(p.cfg.KubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          "v0.0.0-podlet",
			ContainerRuntimeVersion: "podlet://1",
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

// registerNode creates (or takes over) the Node object and its Lease.
func (p *Podlet) registerNode(ctx context.Context) error {
	nodes := p.client.CoreV1().Nodes()
	return retry(ctx, func() error {
		node, err := nodes.Get(ctx, p.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node, err = nodes.Create(ctx, &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{
					Name: p.cfg.NodeName,
					Labels: map[string]string{
						"kubernetes.io/hostname": p.cfg.NodeName,
						"kubernetes.io/os":       "linux",
						"kubernetes.io/arch":     "amd64",
					},
				},
			}, metav1.CreateOptions{})
		}
		if err != nil {
			p.log.Warn("node registration failed", "err", err)
			return err
		}
		node.Status = p.nodeStatus()
		if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			p.log.Warn("node status failed", "err", err)
			return err
		}
		if err := p.renewLease(ctx); err != nil {
			p.log.Warn("lease failed", "err", err)
			return err
		}
		p.log.Info("node registered", "node", p.cfg.NodeName, "ip", p.cfg.NodeIP.String())
		return nil
	})
}

func (p *Podlet) updateNodeStatus(ctx context.Context) error {
	nodes := p.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, p.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	st := p.nodeStatus()
	// Keep transition times: only the heartbeat moves.
	for i := range st.Conditions {
		for _, old := range node.Status.Conditions {
			if old.Type == st.Conditions[i].Type && old.Status == st.Conditions[i].Status {
				st.Conditions[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	node.Status = st
	_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// renewLease keeps kube-node-lease/<node> fresh, as the kubelet does every 10 s.
func (p *Podlet) renewLease(ctx context.Context) error {
	leases := p.client.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(p.now())
	holder := p.cfg.NodeName
	lease, err := leases.Get(ctx, p.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		dur := leaseSeconds
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: p.cfg.NodeName, Namespace: leaseNamespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now,
			},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	lease.Spec.HolderIdentity = &holder
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

