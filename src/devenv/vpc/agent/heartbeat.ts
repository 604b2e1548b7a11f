/**
 * Keeps the Node alive as a kubelet does: its status (Ready, addresses) at start and every minute, its Lease in
 * kube-node-lease renewed every quarter of the lease duration. kube-controller-manager's node lifecycle then
 * keeps the node Ready and its pods' Ready conditions alone.
 */
import type { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isNotFound } from '../../../kube/objects.ts';
import { NODE_LEASE_NAMESPACE, nodeLease, nodeStatusPatch } from './node-status.ts';

const STATUS_EVERY_MS = 60_000;

export interface Heartbeat {
  stop(): void;
}

export async function startHeartbeat(
  api: { core: CoreV1Api; coordination: CoordinationV1Api },
  node: { name: string; ip: string },
  leaseSeconds: number,
  log: (line: string) => void,
  /** Called when a status write turns the Node's Ready condition True (the kubelet's NodeReady event). */
  onReady: () => void = () => {},
): Promise<Heartbeat> {
  let nodeUid: string | undefined;
  const postStatus = async () => {
    const current = await api.core.readNode({ name: node.name });
    nodeUid = current.metadata?.uid;
    await api.core.patchNodeStatus(
      { name: node.name, body: nodeStatusPatch(node, current.status?.conditions, new Date()) },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    if (current.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') onReady();
  };
  const renewLease = async () => {
    try {
      const existing = await api.coordination.readNamespacedLease({ name: node.name, namespace: NODE_LEASE_NAMESPACE });
      await api.coordination.replaceNamespacedLease({ name: node.name, namespace: NODE_LEASE_NAMESPACE, body: nodeLease({ name: node.name, uid: nodeUid }, leaseSeconds, new Date(), existing) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await api.coordination.createNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, body: nodeLease({ name: node.name, uid: nodeUid }, leaseSeconds, new Date()) });
    }
  };
  // A beat still in flight (a busy apiserver) is not overlapped by the next: two renewals of one read would
  // conflict (409).
  const guarded = (what: string, beat: () => Promise<void>) => {
    let inFlight = false;
    return () => {
      if (inFlight) return;
      inFlight = true;
      void beat()
        .catch((error: unknown) => log(`${what} failed: ${(error as Error).message}`))
        .finally(() => (inFlight = false));
    };
  };
  await postStatus();
  await renewLease();
  log(`node ${node.name} Ready at ${node.ip}; lease renewed every ${leaseSeconds / 4} s`);
  const timers = [setInterval(guarded('node status', postStatus), STATUS_EVERY_MS), setInterval(guarded('lease renewal', renewLease), (leaseSeconds / 4) * 1000)];
  return { stop: () => timers.forEach(clearInterval) };
}
