import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bastionNs, netnsPath, podNs, vpcStatePaths } from '../../src/devenv/vpc/names.ts';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestNamespace,
  readinessSwitch,
  removeNamespaceThenNodes,
  uniqueName,
  waitFor,
  waitForNetworkedNodes,
  waitForReadyPods,
  type ReadinessSwitch,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

/**
 * Runs a script with this Node inside the bastion's network namespace (a host in the VPC's first public
 * subnet), so every request crosses the VPC as a client's would: bastion → VPC router → node → pod.
 */
function fromBastion(script: string, ...args: string[]): string {
  const result = spawnSync('nsenter', [`--net=${netnsPath(bastionNs())}`, '--', process.execPath, '-e', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`in the bastion: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

/** GET http://address:port/path `count` times (new connection each), the bodies, one per line ('ERR ...' on failure). */
const httpGets = (address: string, port: number, path: string, count = 1): string[] =>
  fromBastion(
    `const http = require('node:http');
     const [address, port, path, count] = process.argv.slice(1);
     const get = () => new Promise((resolve) => {
       const req = http.get({ host: address, port: Number(port), path, agent: false, timeout: 5000 }, (res) => {
         let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => resolve(res.statusCode + ' ' + body.trim().split('\\n').join(' ')));
       });
       req.on('timeout', () => req.destroy(new Error('timeout'))); req.on('error', (e) => resolve('ERR ' + e.message));
     });
     (async () => { for (let i = 0; i < Number(count); i++) console.log(await get()); })();`,
    address,
    String(port),
    path,
    String(count),
  )
    .trim()
    .split('\n');

/** One UDP datagram to address:port, the reply ('ERR timeout' when none comes). */
const udpExchange = (address: string, port: number, message: string): string =>
  fromBastion(
    `const socket = require('node:dgram').createSocket('udp4');
     const [address, port, message] = process.argv.slice(1);
     const timer = setTimeout(() => { console.log('ERR timeout'); socket.close(); }, 3000);
     socket.on('message', (reply) => { clearTimeout(timer); console.log(reply.toString()); socket.close(); });
     socket.send(message, Number(port), address);`,
    address,
    String(port),
    message,
  ).trim();

// Networked nodes: the vpc component makes a namespace for each and runs its node agent there; pods are real
// processes at their pool addresses and kube-proxy serves NodePorts (docs/pods.md).
describe('pods on networked nodes answer in the local VPC', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('vpc-node'), uniqueName('vpc-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'vpc-pods' };
  // Readiness the test turns off for one pod.
  let readiness: ReadinessSwitch;
  const nodeIps = new Map<string, string>();

  const readyPods = (app: string, count: number) => waitForReadyPods(env.core, ns.name, `app=${app}`, count, 120_000);
  const readyEndpoints = async (service: string): Promise<string[]> =>
    (await env.discovery.listNamespacedEndpointSlice({ namespace: ns.name, labelSelector: `kubernetes.io/service-name=${service}` })).items
      .flatMap((slice) => slice.endpoints ?? [])
      .filter((endpoint) => endpoint.conditions?.ready)
      .flatMap((endpoint) => endpoint.addresses)
      .sort();
  const createService = async (name: string, app: string, spec: Partial<NonNullable<V1Service['spec']>> = {}): Promise<V1Service> =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          type: 'NodePort',
          selector: { app },
          ports: [
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
            { name: 'udp', port: 81, targetPort: 8081, protocol: 'UDP' },
          ],
          ...spec,
        },
      },
    });
  // All three kinds of probe, against the real process.
  const deployment = (name: string, replicas: number, nodeName?: string) =>
    env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: agnhostDeployment(name, {
        replicas,
        nodeSelector: testLabel,
        nodeName,
        udp: true,
        ...readiness.probes,
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 },
      }),
    });

  beforeAll(async () => {
    env = connect();
    readiness = readinessSwitch('cpl-vpc-unready');
    ns = await createTestNamespace(env.core, 'vpc-pods');
    for (const name of nodes) await createNetworkedNode(env.core, name, { labels: testLabel });
    // The node controller gives each node an instance (the vpc component builds its namespace from it), the
    // ENI pool gives pods their addresses.
    cluster = await startTestCluster(env, { controllers: ['node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=vpc-pods' });
    for (const [index, ip] of (await waitForNetworkedNodes(env.core, nodes)).entries()) nodeIps.set(nodes[index]!, ip);
    await deployment('web', 4);
    // eTP=Local's backends: on the first node only, so the second has no local endpoint.
    await deployment('local', 1, nodes[0]!);
  }, 240_000);

  afterAll(async () => {
    await removeNamespaceThenNodes(env.core, ns, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    readiness?.remove();
    env?.close();
  });

  it("each pod answers /hostname at its pod IP, its status from the agent (the pool's address, the node's IP)", async () => {
    const pods = await readyPods('web', 4);
    for (const pod of pods) {
      expect(pod.status?.podIP).toBe(pod.metadata?.annotations?.['vpc.amazonaws.com/pod-ips']);
      expect(pod.status?.hostIP).toBe(nodeIps.get(pod.spec!.nodeName!));
      expect(httpGets(pod.status!.podIP!, 8080, '/hostname')).toEqual([`200 ${pod.metadata!.name}`]);
    }
  });

  it("a NodePort on each networked node reaches every ready pod (100 requests), TCP and UDP", async () => {
    const pods = await readyPods('web', 4);
    const service = await createService('web', 'web');
    const [http, udp] = service.spec!.ports!.map((p) => p.nodePort!);
    const names = pods.map((p) => p.metadata!.name!).sort();
    await waitFor(async () => (await readyEndpoints('web')).length === 4, { description: 'four ready endpoints' });
    for (const ip of nodeIps.values()) {
      // kube-proxy programs the rules a moment after the EndpointSlice changes.
      await waitFor(async () => httpGets(ip, http!, '/hostname')[0]?.startsWith('200 '), { description: `NodePort ${ip}:${http}` });
      const seen = new Set(httpGets(ip, http!, '/hostname', 100).map((line) => line.replace(/^200 /, '')));
      expect([...seen].sort()).toEqual(names);
      const echoed = await waitFor(async () => { const reply = udpExchange(ip, udp!, 'echo hello-udp'); return reply !== 'ERR timeout' && reply; }, { description: `UDP NodePort ${ip}:${udp}` });
      expect(echoed).toBe('hello-udp');
    }
    expect(udpExchange(pods[0]!.status!.podIP!, 8081, 'hostname')).toBe(pods[0]!.metadata!.name);
  });

  it("externalTrafficPolicy Local: healthCheckNodePort /healthz answers 200 with a local endpoint, 503 without; kube-proxy's :10256/healthz is 200", async () => {
    await readyPods('local', 1);
    const service = await createService('local', 'local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerClass: 'example.com/none' });
    const checkPort = service.spec!.healthCheckNodePort!;
    expect(checkPort).toBeGreaterThan(0);
    const [withPod, without] = nodes.map((n) => nodeIps.get(n)!);
    const first = await waitFor(async () => { const [line] = httpGets(withPod!, checkPort, '/healthz'); return line?.startsWith('200 ') && line; }, { description: 'health check 200 on the node with the pod' });
    expect(JSON.parse(first.slice(4))).toMatchObject({ service: { namespace: ns.name, name: 'local' }, localEndpoints: 1 });
    const other = await waitFor(async () => { const [line] = httpGets(without!, checkPort, '/healthz'); return !line?.startsWith('ERR') && line; }, { description: 'health check answered on the node without' });
    expect(other).toMatch(/^503 /);
    expect(JSON.parse(other!.slice(4))).toMatchObject({ localEndpoints: 0 });
    for (const ip of nodeIps.values()) expect(httpGets(ip, 10256, '/healthz')[0]).toMatch(/^200 /);
  });

  it('a pod whose readiness probe fails leaves the EndpointSlice and comes back when it passes', async () => {
    const pods = await readyPods('web', 4);
    if (!(await env.core.readNamespacedService({ namespace: ns.name, name: 'web' }).catch(() => undefined))) await createService('web', 'web');
    const victim = pods[0]!;
    const ip = victim.status!.podIP!;
    await waitFor(async () => (await readyEndpoints('web')).includes(ip), { description: `${ip} ready in the slice` });
    readiness.unready(victim.metadata!.name!);
    await waitFor(async () => !(await readyEndpoints('web')).includes(ip), { description: `${ip} out of the ready endpoints` });
    const unready = await env.core.readNamespacedPod({ namespace: ns.name, name: victim.metadata!.name! });
    expect(unready.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    // The process itself still answers: only readiness changed.
    expect(httpGets(ip, 8080, '/hostname')).toEqual([`200 ${victim.metadata!.name}`]);
    readiness.ready(victim.metadata!.name!);
    await waitFor(async () => (await readyEndpoints('web')).includes(ip), { description: `${ip} back in the ready endpoints` });
  });

  it('deleting a pod stops its process and removes its namespace (freeing the address)', async () => {
    const [victim] = await readyPods('web', 4);
    const uid = victim!.metadata!.uid!;
    const ip = victim!.status!.podIP!;
    expect(existsSync(netnsPath(podNs(uid)))).toBe(true);
    await env.core.deleteNamespacedPod({ namespace: ns.name, name: victim!.metadata!.name! });
    await waitFor(async () => !(await env.core.readNamespacedPod({ namespace: ns.name, name: victim!.metadata!.name! }).catch(() => undefined)), {
      description: 'the pod object gone (the agent deletes it once its processes stopped)',
      timeoutMs: 60_000,
    });
    expect(existsSync(netnsPath(podNs(uid)))).toBe(false);
    const answer = httpGets(ip, 8080, '/hostname')[0]!;
    // Nothing answers at the old address (unless the pool already handed it to a new pod).
    if (!answer.startsWith('ERR')) expect(answer).not.toBe(`200 ${victim!.metadata!.name}`);
    await readyPods('web', 4);
  });

  it("a node agent acts as its node (system:node:<name>): refused another node's status and its pods' (403); kube-proxy reads Services and may not write Nodes", async () => {
    const as = (path: string): CoreV1Api => {
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      return kc.makeApiClient(CoreV1Api);
    };
    const codeOf = (call: Promise<unknown>): Promise<number> =>
      call.then(
        () => 200,
        (error: unknown) => (error as { code?: number }).code ?? -1,
      );
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const [mine, other] = nodes as [string, string];
    const agent = as(vpcStatePaths().nodeKubeconfig(mine));
    // An empty merge patch changes nothing: only who may write is tested. The own node's passes, so the
    // credential works and the 403s are the Node authorizer and NodeRestriction at work (admin would pass all).
    expect(await codeOf(agent.patchNodeStatus({ name: mine, body: {} }, mergePatch))).toBe(200);
    expect(await codeOf(agent.patchNodeStatus({ name: other, body: {} }, mergePatch))).toBe(403);
    const pods = await readyPods('web', 4);
    const onMine = pods.find((p) => p.spec?.nodeName === mine);
    const onOther = pods.find((p) => p.spec?.nodeName === other);
    expect(onMine && onOther, 'web pods on both nodes').toBeTruthy();
    const podStatus = (pod: V1Pod) => agent.patchNamespacedPodStatus({ namespace: ns.name, name: pod.metadata!.name!, body: {} }, mergePatch);
    expect(await codeOf(podStatus(onMine!))).toBe(200);
    expect(await codeOf(podStatus(onOther!))).toBe(403);

    const kubeProxy = as(vpcStatePaths().kubeProxyKubeconfig);
    expect(await codeOf(kubeProxy.listNamespacedService({ namespace: ns.name }))).toBe(200);
    expect(await codeOf(kubeProxy.patchNodeStatus({ name: mine, body: {} }, mergePatch))).toBe(403);
  });
});
