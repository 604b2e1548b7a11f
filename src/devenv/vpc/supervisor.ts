/**
 * The `vpc` component (ADR 0011): one process in the host's namespace that builds the local VPC and keeps it in
 * step with the cluster. It
 * - starts from a clean slate (removes every namespace of this environment: crash recovery),
 * - makes the router namespace with a bridge per subnet, and the bastion in the first public subnet with the
 *   door (relay-main.ts door) running inside it,
 * - serves the apiserver relay socket that node agents and kube-proxy reach the apiserver through,
 * - watches Nodes labelled network=vpc: for each whose EC2 instance is known, makes the node namespace with the
 *   instance's primary private IP and runs the node agent in it; on the Node's deletion stops the agent and
 *   removes the node's and its pods' namespaces,
 * - answers /healthz on 127.0.0.1:CPL_VPC_PORT once the router, bastion, door and relay are up.
 * On SIGTERM it stops the agents and the door and removes every namespace it made.
 *
 *   node supervisor.ts --kube-proxy PATH --agnhost PATH --podserver PATH [--agent PATH]
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';

import { createAwsClients } from '../../cloud/clients.ts';
import { instanceIdOf } from '../../core/nodes.ts';
import { startInformer } from '../../kube/informer.ts';
import { readAwsEnvironment } from '../environment.ts';
import { logPath, repoRoot, statePaths } from '../paths.ts';
import { settings } from '../settings.ts';
import { onStopSignals } from '../stop-signals.ts';
import { agentArgv } from './agent/args.ts';
import { superviseInNamespace, type SupervisedProcess } from './agent-process.ts';
import { vpcResolver } from './fabric-commands.ts';
import { addBastion, addNode, addSubnetBridge, createRouter, removeNode, teardownAll } from './fabric.ts';
import { NETWORKED_NODES_SELECTOR } from './keys.ts';
import { removeKubeconfig, writeKubeProxyKubeconfig, writeNodeKubeconfig } from './identities.ts';
import { bastionNs, nodeNs, routerNs, subnetBridge, vpcStatePaths } from './names.ts';
import { nlbPaths } from '../../dataplane/paths.ts';
import { keepHostsFile } from './hosts.ts';
import { serveUnixToTcp } from './relay.ts';
import { describeInstanceAddress, describeVpcSubnets, ensureBastionAddress, type VpcSubnet } from './vpc-aws.ts';

/** A kubelet's default node Lease duration (renewed every quarter of it), as kwok's nodes have. */
const NODE_LEASE_SECONDS = 40;

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`vpc supervisor: bad argument ${JSON.stringify(flag)}`);
    flags[flag.slice(2)] = value;
  }
  for (const required of ['kube-proxy', 'agnhost', 'podserver']) {
    if (!flags[required]) throw new Error(`vpc supervisor: --${required} PATH is required`);
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const agentScript = flags.agent ?? join(repoRoot, 'src', 'devenv', 'vpc', 'node-agent.ts');
const paths = vpcStatePaths();
const aws = readAwsEnvironment();
const clients = createAwsClients({ region: aws.region, endpoint: aws.endpoint, credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } });
const router = routerNs();
let ready = false;

// Subnet bridges: index by first sight (stable within one run; names only matter inside the router ns).
const bridges = new Map<string, { index: number; cidr: string }>();
async function bridgeOf(subnetId: string): Promise<{ index: number; cidr: string }> {
  let bridge = bridges.get(subnetId);
  if (bridge) return bridge;
  const subnet = (await describeVpcSubnets(clients.ec2, aws.vpcId)).find((s) => s.id === subnetId);
  if (!subnet) throw new Error(`subnet ${subnetId} is not in the VPC ${aws.vpcId}`);
  bridge = await addBridge(subnet);
  return bridge;
}
async function addBridge(subnet: VpcSubnet): Promise<{ index: number; cidr: string }> {
  const bridge = { index: bridges.size, cidr: subnet.cidr };
  await addSubnetBridge(router, bridge.index, subnet.cidr);
  bridges.set(subnet.id, bridge);
  log(`subnet ${subnet.id} ${subnet.cidr}: bridge ${subnetBridge(bridge.index)}`);
  return bridge;
}

interface RunningNode {
  ns: string;
  ip: string;
  agent: SupervisedProcess;
}
const running = new Map<string, RunningNode>();

async function startNode(name: string, instanceId: string): Promise<void> {
  const address = await describeInstanceAddress(clients.ec2, instanceId);
  if (!address) {
    log(`node ${name}: instance ${instanceId} has no private IP yet; waiting`);
    return;
  }
  const bridge = await bridgeOf(address.subnetId);
  const ns = nodeNs(name);
  await addNode({ router, ns, nodeName: name, address: address.ip, subnetIndex: bridge.index, subnetCidr: bridge.cidr });
  const stateDir = paths.nodeDir(name);
  mkdirSync(stateDir, { recursive: true });
  // The node's own identity, so the Node authorizer and NodeRestriction hold its agent to its own objects.
  await writeNodeKubeconfig(paths.nodeKubeconfig(name), name);
  const argv = agentArgv({
    node: name,
    ip: address.ip,
    apiserverSocket: paths.apiserverSocket,
    apiserverPort: settings.ports.apiserver,
    kubeProxy: flags['kube-proxy']!,
    agnhost: flags.agnhost!,
    podserver: flags.podserver!,
    // Both point at https://127.0.0.1:<apiserver port>, which inside the node's namespace is the agent's relay
    // to the host's apiserver.
    kubeconfig: paths.nodeKubeconfig(name),
    kubeProxyKubeconfig: paths.kubeProxyKubeconfig,
    stateDir,
    leaseSeconds: NODE_LEASE_SECONDS,
  });
  const agent = superviseInNamespace({ label: `agent ${name}`, ns, argv: [process.execPath, agentScript, ...argv], logFile: logPath(`node-${name}`) }, log);
  running.set(name, { ns, ip: address.ip, agent });
  log(`node ${name}: namespace ${ns} with ${address.ip} (${address.subnetId}); agent pid ${agent.pid()}`);
}

async function stopNode(name: string): Promise<void> {
  const node = running.get(name);
  if (!node) return;
  running.delete(name);
  await node.agent.stop();
  await removeNode(node.ns);
  removeKubeconfig(paths.nodeKubeconfig(name));
  log(`node ${name}: agent stopped, namespace ${node.ns} and its pods' removed`);
}

// Level-triggered: compare the labelled Nodes with what runs, one pass at a time, again after any change.
const kc = new KubeConfig();
kc.loadFromFile(statePaths.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const nodes = startInformer<V1Node>(kc, '/api/v1/nodes', () => core.listNode({ labelSelector: NETWORKED_NODES_SELECTOR }), {
  name: 'networked-nodes',
  labelSelector: NETWORKED_NODES_SELECTOR,
  log: (message, error) => log(`${message}${error ? `: ${(error as Error).message}` : ''}`),
});

let passing = false;
let again = false;
async function reconcile(): Promise<void> {
  if (passing) {
    again = true;
    return;
  }
  passing = true;
  try {
    do {
      again = false;
      const wanted = new Map<string, string>();
      for (const node of nodes.list()) {
        const instanceId = instanceIdOf(node);
        if (node.metadata?.name && instanceId) wanted.set(node.metadata.name, instanceId);
      }
      for (const name of [...running.keys()]) if (!wanted.has(name)) await stopNode(name);
      for (const [name, instanceId] of wanted) {
        if (running.has(name)) continue;
        await startNode(name, instanceId).catch(async (error: unknown) => {
          log(`node ${name}: ${(error as Error).message}; retrying`);
          await removeNode(nodeNs(name)).catch(() => undefined);
        });
      }
    } while (again);
  } finally {
    passing = false;
  }
}

const health = createServer((request, response) => {
  const ok = request.url === '/healthz' && ready;
  response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
});

let door: SupervisedProcess | undefined;
let apiRelay: import('node:net').Server | undefined;
// The NLB data plane (ADR 0012) runs in the router ns and reaches the emulator through this socket.
let emulatorRelay: import('node:net').Server | undefined;
let stopHostsFile: (() => void) | undefined;
let ticker: NodeJS.Timeout | undefined;

async function shutdown(): Promise<void> {
  ready = false;
  clearInterval(ticker);
  nodes.stop();
  // All agents at once: each waits for its pods' grace period, and `down` gives this process 10 s in all.
  await Promise.all([...running.keys()].map((name) => stopNode(name).catch((error: unknown) => log(`node ${name}: ${(error as Error).message}`))));
  await door?.stop(2000);
  apiRelay?.close();
  emulatorRelay?.close();
  stopHostsFile?.();
  const removed = await teardownAll();
  log(`removed namespaces: ${removed.join(' ') || '(none)'}`);
  health.close();
  clients.destroy();
}

async function main(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(settings.ports.vpc, settings.host, resolve);
  });
  const leftovers = await teardownAll();
  if (leftovers.length > 0) log(`removed namespaces left by an earlier run: ${leftovers.join(' ')}`);
  mkdirSync(paths.root, { recursive: true });
  await writeKubeProxyKubeconfig(paths.kubeProxyKubeconfig);

  await createRouter(router);
  for (const subnet of await describeVpcSubnets(clients.ec2, aws.vpcId)) await addBridge(subnet);

  const bastionSubnet = aws.publicSubnets[0];
  if (!bastionSubnet) throw new Error(`${statePaths.awsJson} lists no public subnet for the bastion`);
  const bastionIp = await ensureBastionAddress(clients.ec2, bastionSubnet.id, aws.clusterName);
  const bridge = await bridgeOf(bastionSubnet.id);
  await addBastion({ router, ns: bastionNs(), address: bastionIp, subnetIndex: bridge.index, subnetCidr: bridge.cidr }, vpcResolver(settings.vpcCidr));
  door = superviseInNamespace(
    { label: 'door', ns: bastionNs(), argv: [process.execPath, join(repoRoot, 'src', 'devenv', 'vpc', 'relay-main.ts'), 'door', paths.doorSocket, settings.vpcCidr], logFile: logPath('vpc-door') },
    log,
  );
  log(`bastion ${bastionNs()} at ${bastionIp} (${bastionSubnet.id}); door ${paths.doorSocket}`);
  apiRelay = await serveUnixToTcp(paths.apiserverSocket, settings.host, settings.ports.apiserver);
  emulatorRelay = await serveUnixToTcp(nlbPaths().emulatorSocket, settings.host, settings.ports.emulator);

  await waitForDoor();
  await nodes.synced;
  nodes.onChange(() => void reconcile());
  ticker = setInterval(() => void reconcile(), 5000);
  await reconcile();
  // Pods come and go with the node agents: hosts.json (real addresses, for the NLB's health checks) is rewritten every 2 s.
  stopHostsFile = keepHostsFile(2000, log);
  ready = true;
  log('ready');
}

/** The door is a separate process: ready when its socket accepts a connection. */
async function waitForDoor(): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 300; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(paths.doorSocket);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the bastion's door did not open ${paths.doorSocket} (log: ${logPath('vpc-door')})`);
}

onStopSignals(shutdown, log);

main().catch(async (error: unknown) => {
  log(`vpc supervisor failed: ${(error as Error).stack ?? String(error)}`);
  await shutdown().catch(() => undefined);
  process.exit(1);
});
