/**
 * What the agent writes for its Node, as a kubelet does: the status conditions (Ready with a heartbeat, no
 * pressure), the addresses (InternalIP = the instance's private IP, Hostname) and the node Lease in
 * kube-node-lease. Pure: the caller supplies the clock.
 */
import { V1MicroTime, type V1Lease, type V1NodeCondition } from '@kubernetes/client-node';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const CONDITIONS: { type: string; status: 'True' | 'False'; reason: string; message: string }[] = [
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'node agent is posting ready status' },
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'node agent has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'node agent has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'node agent has sufficient PID available' },
];

/**
 * A merge patch of the Node's status. Conditions keep their lastTransitionTime while their status is unchanged;
 * capacity and allocatable are left as they are (the node controller or the test set them).
 */
export function nodeStatusPatch(node: { name: string; ip: string }, previous: readonly V1NodeCondition[] | undefined, now: Date) {
  const conditions = CONDITIONS.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    return {
      ...condition,
      lastHeartbeatTime: now.toISOString(),
      lastTransitionTime: before?.status === condition.status && before.lastTransitionTime ? new Date(before.lastTransitionTime).toISOString() : now.toISOString(),
    };
  });
  return {
    status: {
      conditions,
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      // kube-proxy's healthz port is the node's daemon endpoint a kubelet would name; 0 says no kubelet API.
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    },
  };
}

/** The node Lease as a kubelet keeps it: held by the node, owned by the Node (deleted with it). */
export function nodeLease(node: { name: string; uid: string | undefined }, leaseSeconds: number, now: Date, base?: V1Lease): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...base?.metadata,
      name: node.name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(node.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }] } : {}),
    },
    spec: { holderIdentity: node.name, leaseDurationSeconds: leaseSeconds, renewTime: new V1MicroTime(now.getTime()) },
  };
}
