/**
 * The naming scheme of the local VPC (ADR 0011): namespaces, interfaces and state files. Pure functions of their
 * inputs, so every component (the supervisor, node agents, the CLI, cleanup) derives the same names without
 * asking anyone.
 *
 * Every namespace the environment makes is a named netns `cpl<envId>-…`; envId is derived from the state folder,
 * so two environments on one machine (each with its own CPL_STATE_DIR) never collide and cleanup of one never
 * touches the other. Linux interface names hold at most 15 characters and are unique only within their namespace.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

import { statePaths } from '../paths.ts';

const hex = (algorithm: 'sha1' | 'sha256', text: string, length: number): string =>
  createHash(algorithm).update(text).digest('hex').slice(0, length);

/** The namespace-name prefix of one environment: first 6 hex of sha256 of its state folder. */
export const envIdOf = (stateRoot: string): string => hex('sha256', stateRoot, 6);

/** The envId of this process's environment (CPL_STATE_DIR or .devenv). */
export const envId: string = envIdOf(statePaths.root);

/** Every namespace of an environment starts with this; cleanup deletes exactly these. */
export const namespacePrefix = (id: string = envId): string => `cpl${id}-`;

/** The VPC router: one bridge per subnet, holding the subnet's .1. */
export const routerNs = (id: string = envId): string => `${namespacePrefix(id)}vpc`;

/** The bastion host in the first public subnet: `vpc exec` runs here and the door listens here. */
export const bastionNs = (id: string = envId): string => `${namespacePrefix(id)}bastion`;

/** Longest node name kept verbatim in a namespace name; longer ones are hashed (netns names are file names). */
const MAX_NODE_NAME_IN_NS = 40;

/** A networked node's namespace: holds the instance's primary private IP on eth0. */
export const nodeNs = (nodeName: string, id: string = envId): string => {
  const part = nodeName.length > MAX_NODE_NAME_IN_NS ? hex('sha256', nodeName, 12) : nodeName;
  return `${namespacePrefix(id)}n-${part}`;
};

/** A pod's namespace, keyed by its UID (names are reused after delete/recreate, UIDs are not). */
export const podNs = (podUid: string, id: string = envId): string =>
  `${namespacePrefix(id)}p-${podUid.replaceAll('-', '').slice(0, 16)}`;

/** Which kind of namespace a name of ours is, or undefined when it is not ours (another environment's or none). */
export const classifyNs = (
  name: string,
  id: string = envId,
): { kind: 'router' | 'bastion' } | { kind: 'node' | 'pod'; part: string } | undefined => {
  const prefix = namespacePrefix(id);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (rest === 'vpc') return { kind: 'router' };
  if (rest === 'bastion') return { kind: 'bastion' };
  if (rest.startsWith('n-')) return { kind: 'node', part: rest.slice(2) };
  if (rest.startsWith('p-')) return { kind: 'pod', part: rest.slice(2) };
  return undefined;
};

/** Path of a named namespace's handle, for `nsenter --net=…` (ip netns keeps them here). */
export const netnsPath = (ns: string): string => `/run/netns/${ns}`;

/** Per-namespace files `ip netns exec` bind-mounts over /etc (resolv.conf of the VPC's resolver). */
export const netnsEtcDir = (ns: string): string => `/etc/netns/${ns}`;

// Interface names (each ≤ 15 characters).

/** In the router ns: the bridge of subnet number `index` (the subnet's position in the VPC's subnet list). */
export const subnetBridge = (index: number): string => `br-${index}`;

/** In the router ns: the bridge-side peer of a node's uplink. */
export const nodeUplinkPeer = (nodeName: string): string => `n${hex('sha1', nodeName, 10)}`;

/** In the router ns: the bridge-side peer of the bastion's uplink. */
export const BASTION_UPLINK_PEER = 'bastion';

/** A node's, the bastion's and a pod's own interface toward its uplink. */
export const UPLINK = 'eth0';

/** In a node ns: the host side of a pod's veth, named as the VPC CNI names it (from namespace/name). */
export const podHostVeth = (podNamespace: string, podName: string): string =>
  `eni${hex('sha1', `${podNamespace}/${podName}`, 11)}`;

/** Where a pod's default route points; the node side answers for it by proxy ARP (as the VPC CNI does). */
export const POD_GATEWAY = '169.254.1.1';

// State files under <stateDir>/vpc/ (the file system is shared by every namespace, so Unix sockets cross).

export const vpcStatePaths = (stateRoot: string = statePaths.root) => {
  const root = join(stateRoot, 'vpc');
  return {
    root,
    /** Host side of the apiserver relay: connections are piped to the apiserver's TCP port on the host. */
    apiserverSocket: join(root, 'apiserver.sock'),
    /** The bastion's door: one line `<addr>:<port>\n`, then the stream is piped to that address. */
    doorSocket: join(root, 'door.sock'),
    /** Per-node files (kubeconfig, pids) of node agents. */
    nodeDir: (nodeName: string): string => join(root, 'nodes', nodeName),
    /** The node agent's own identity (system:node:<name>), removed with the node. */
    nodeKubeconfig: (nodeName: string): string => join(root, 'nodes', nodeName, 'kubeconfig'),
    /** kube-proxy's identity (system:kube-proxy), shared by every node's kube-proxy. */
    kubeProxyKubeconfig: join(root, 'kube-proxy.kubeconfig'),
  } as const;
};
