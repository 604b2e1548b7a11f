/**
 * Builds and takes down the local VPC's namespaces by running fabric-commands.ts (ADR 0011). Callable from the
 * host ns (the supervisor) and from inside a node ns (the node agent adds its pods): every command names its
 * target namespace, and `ip netns add` from inside `nsenter --net=…` is visible to the whole machine because
 * nsenter keeps the host's mount namespace.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  type Command,
  type NodeHost,
  type Step,
  type PodKey,
  bastionCommands,
  deleteNamespaceCommand,
  isBatch,
  listNamespacesCommand,
  listPidsCommand,
  nodeCommands,
  parseNamespaceList,
  podCommands,
  podDefaultsCommand,
  routerCommands,
  subnetCommands,
  teardownOrder,
} from './fabric-commands.ts';
import { envId, namespacePrefix, netnsEtcDir, podNs, vpcStatePaths } from './names.ts';

export type { PodKey, NodeHost } from './fabric-commands.ts';

/** Runs one command (an `ip` batch gets its lines on stdin); the error names the command and carries its stderr. */
export const runCommand = (step: Step): Promise<string> =>
  new Promise((resolve, reject) => {
    const command: Command = isBatch(step) ? step.argv : step;
    const [file, ...args] = command;
    if (file === undefined) throw new Error('empty command');
    const child = execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      const what = isBatch(step) ? `${command.join(' ')} <<< ${JSON.stringify(step.input)}` : command.join(' ');
      if (error) reject(new Error(`${what} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(isBatch(step) ? step.input : undefined);
  });

const runAll = async (steps: readonly Step[]): Promise<void> => {
  for (const step of steps) await runCommand(step);
};

/** Runs a step; when it fails halfway, deletes the namespace it was making so a retry starts clean. */
const runOrUndo = async (ns: string, commands: readonly Step[]): Promise<void> => {
  try {
    await runAll(commands);
  } catch (error) {
    await deleteNamespace(ns).catch(() => undefined);
    throw error;
  }
};

export const listNamespaces = async (): Promise<string[]> => parseNamespaceList(await runCommand(listNamespacesCommand));

export const namespaceExists = async (ns: string): Promise<boolean> => (await listNamespaces()).includes(ns);

/** Pids of every process in a namespace (`ip netns pids`). */
export const namespacePids = async (ns: string): Promise<number[]> =>
  (await runCommand(listPidsCommand(ns)).catch(() => ''))
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);

const killAll = (pids: readonly number[]): void => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
};

/** Kills what runs in the namespace (twice: a dying parent may have forked) and deletes it with its interfaces. */
export const deleteNamespace = async (ns: string): Promise<void> => {
  killAll(await namespacePids(ns));
  killAll(await namespacePids(ns));
  if (await namespaceExists(ns)) await runCommand(deleteNamespaceCommand(ns));
  rmSync(netnsEtcDir(ns), { recursive: true, force: true });
};

export const createRouter = (router: string): Promise<void> => runOrUndo(router, routerCommands(router));

export const addSubnetBridge = (router: string, index: number, subnetCidr: string): Promise<void> =>
  runAll(subnetCommands(router, index, subnetCidr));

export const addNode = (node: NodeHost): Promise<void> => runOrUndo(node.ns, nodeCommands(node));

/** Writes /etc/netns/<ns>/resolv.conf, which `ip netns exec` (and so `vpc exec`) bind-mounts over /etc/resolv.conf. */
const writeResolvConf = (ns: string, nameserver: string): void => {
  mkdirSync(netnsEtcDir(ns), { recursive: true });
  writeFileSync(join(netnsEtcDir(ns), 'resolv.conf'), `nameserver ${nameserver}\n`);
};

export const addBastion = async (
  bastion: Parameters<typeof bastionCommands>[0],
  resolver: string,
): Promise<void> => {
  await runOrUndo(bastion.ns, bastionCommands(bastion));
  writeResolvConf(bastion.ns, resolver);
};

// Which pod namespaces belong to which node: a marker file per pod (first line: the node's namespace; second:
// the pod's address), so removing a node removes its pods too (a pod ns outlives its node's veth otherwise), and
// what the pods hold is known without asking every namespace (hosts.json).
const podMarkers = (): string => join(vpcStatePaths().root, 'pods');

const readdirOrEmpty = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

const readMarker = (pod: string): { nodeNs: string; address: string } => {
  const [nodeNs = '', address = ''] = readFileSync(join(podMarkers(), pod), 'utf8').split('\n');
  return { nodeNs: nodeNs.trim(), address: address.trim() };
};

const podsOfNode = (nodeNs: string): string[] => readdirOrEmpty(podMarkers()).filter((pod) => readMarker(pod).nodeNs === nodeNs);

/** The addresses of every pod namespace of this environment, from the markers (no command per namespace). */
export const podAddresses = (): string[] =>
  readdirOrEmpty(podMarkers()).flatMap((pod) => {
    try {
      const { address } = readMarker(pod);
      return address ? [address] : [];
    } catch {
      return []; // removed while we read
    }
  });

/** What the node's namespace must hold before its pods are made (podDefaultsCommand); idempotent. */
export const ensurePodDefaults = (nodeNs: string): Promise<void> => runAll([podDefaultsCommand(nodeNs)]);

/** A pod's namespace and its veth to the node, with the node's /32 route to it (see podCommands). */
export const addPod = async (nodeNs: string, pod: PodKey, podIp: string): Promise<string> => {
  const ns = podNs(pod.uid);
  mkdirSync(podMarkers(), { recursive: true });
  writeFileSync(join(podMarkers(), ns), `${nodeNs}\n${podIp}\n`);
  await runOrUndo(ns, podCommands(nodeNs, ns, pod, podIp));
  return ns;
};

/** Kills the pod's remaining processes and deletes its namespace (the veth and the node's route go with it). */
export const removePod = async (pod: Pick<PodKey, 'uid'>): Promise<void> => {
  const ns = podNs(pod.uid);
  await deleteNamespace(ns);
  rmSync(join(podMarkers(), ns), { force: true });
};

/** A node's pods first, then the node's namespace with everything running in it (its agent, kube-proxy). */
export const removeNode = async (nodeNs: string): Promise<void> => {
  for (const pod of podsOfNode(nodeNs)) {
    await deleteNamespace(pod);
    rmSync(join(podMarkers(), pod), { force: true });
  }
  await deleteNamespace(nodeNs);
};

/**
 * Removes every namespace of one environment (`cpl<id>-*`) and what runs in it: `down`, and crash recovery at
 * `up`. Nothing of ours is outside these namespaces, so this leaves the host as it was.
 */
export const teardownAll = async (id: string = envId): Promise<string[]> => {
  const prefix = namespacePrefix(id);
  const ours = teardownOrder(await listNamespaces(), prefix);
  for (const ns of ours) await deleteNamespace(ns);
  // /etc/netns entries whose namespace is already gone (a crash between the two deletions).
  for (const entry of readdirOrEmpty('/etc/netns').filter((name) => name.startsWith(prefix))) {
    rmSync(netnsEtcDir(entry), { recursive: true, force: true });
  }
  if (id === envId) rmSync(podMarkers(), { recursive: true, force: true });
  return ours;
};
