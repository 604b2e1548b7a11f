import { spawnSync } from 'node:child_process';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Container, V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsPath, routerNs } from '../../src/devenv/vpc/names.ts';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestNamespace,
  keptConnection,
  readinessSwitch,
  removeNamespaceThenNodes,
  uniqueName,
  vpcExec,
  waitFor,
  waitForReadyPods,
  type ReadinessSwitch,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';
import { Annotations } from '../../src/core/annotations.ts';


/** `count` GETs of http://host/path from the bastion (curl, a new connection each), one body per line. */
async function curlFromBastion(host: string, path: string, count: number): Promise<string[]> {
  const result = await vpcExec(['sh', '-c', `for i in $(seq ${count}); do curl -s -m 5 "http://${host}${path}" || printf ERR; echo; done`], { timeoutMs: 120_000 });
  return result.stdout.trim().split('\n');
}

/** Seconds left of the router's conntrack entries of flows from `source` to port `port`. */
function routerFlowTimeouts(protocol: 'tcp' | 'udp', source: string, port: number): number[] {
  const result = spawnSync('nsenter', [`--net=${netnsPath(routerNs())}`, '--', 'conntrack', '-L', '-p', protocol, '--orig-src', source, '--orig-port-dst', String(port)], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith(protocol))
    .map((line) => Number(line.split(/\s+/)[2]));
}

// The NLB data plane (ADR 0012) end to end: Services on networked nodes get NLBs from the project's controllers;
// from the bastion their DNS names resolve (the VPC resolver) and traffic reaches the pods through the router's
// nftables, in instance mode via the nodes' kube-proxy and in ip mode straight to the pods.
describe('NLB data plane: traffic through the NLB from inside the VPC', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('nlb-node'), uniqueName('nlb-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'nlb-dataplane' };
  // Readiness the tests turn off per pod (a deregistered target).
  let readiness: ReadinessSwitch;
  let bastionIp = '';

  const readyPods = (count: number): Promise<V1Pod[]> => waitForReadyPods(env.core, ns.name, 'app=web', count);

  const loadBalancerService = async (name: string, annotations: Record<string, string>, ports: NonNullable<V1Service['spec']>['ports']): Promise<string> => {
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name, annotations: { [Annotations.scheme]: 'internal', ...annotations } },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports },
      },
    });
    return waitFor(
      async () => (await env.core.readNamespacedService({ name, namespace: ns.name })).status?.loadBalancer?.ingress?.[0]?.hostname,
      { description: `Service ${name} gets its NLB's DNS name`, timeoutMs: 120_000 },
    );
  };

  /** A Deployment of `replicas` pods of one container on this file's nodes, labelled app=<name>. */
  const createDeployment = (name: string, replicas: number, container: V1Container) =>
    env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { nodeSelector: testLabel, terminationGracePeriodSeconds: 1, containers: [container] } },
        },
      },
    });

  /** The TCP target group of the NLB with this DNS name. */
  const tcpTargetGroupOf = async (dnsName: string): Promise<string> => {
    const lbs = await env.aws.elbv2.send(new DescribeLoadBalancersCommand({}));
    const lb = lbs.LoadBalancers!.find((l) => l.DNSName === dnsName)!;
    const groups = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    return groups.TargetGroups!.find((g) => g.Protocol === 'TCP')!.TargetGroupArn!;
  };

  /** Waits until the NLB's TCP group has `count` targets that take new flows and curls through it answer, then returns what 100 requests see. */
  const hostnamesThrough = async (host: string, count: number): Promise<Set<string>> => {
    const groupArn = await tcpTargetGroupOf(host);
    await waitFor(
      async () => {
        const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }));
        return health.TargetHealthDescriptions?.filter((d) => d.TargetHealth?.State !== 'draining').length === count;
      },
      { description: `${count} targets registered behind ${host}`, timeoutMs: 60_000 },
    );
    await waitFor(async () => (await curlFromBastion(host, '/hostname', 3)).every((line) => line.startsWith('web-')), {
      description: `http://${host}/hostname answers from the bastion`,
      timeoutMs: 60_000,
    });
    return new Set(await curlFromBastion(host, '/hostname', 100));
  };


  let instanceName = '';
  let ipName = '';
  let snatName = '';

  beforeAll(async () => {
    env = connect();
    readiness = readinessSwitch('cpl-nlb-unready');
    ns = await createTestNamespace(env.core, 'nlb-dp');
    for (const name of nodes) await createNetworkedNode(env.core, name, { labels: testLabel });
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=nlb-dataplane' });
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('web', { replicas: 4, nodeSelector: testLabel, udp: true, ...readiness.probes }) });
    bastionIp = (await vpcExec(['sh', '-c', "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1"])).stdout.trim();
    const http = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };
    [instanceName, ipName, snatName] = await Promise.all([
      loadBalancerService('inst', { [Annotations.targetType]: 'instance' }, [http]),
      // Cross-zone on: one client's cached DNS answer (one LB address) reaches every pod, in any zone.
      loadBalancerService(
        'ip',
        {
          [Annotations.targetType]: 'ip',
          [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true',
          [Annotations.targetGroupAttributes]: 'preserve_client_ip.enabled=true',
        },
        [http, { name: 'udp', port: 81, targetPort: 8081, protocol: 'UDP' }],
      ),
      // ip targets over TCP: the client IP is not preserved by default (the pod sees the NLB's address).
      loadBalancerService('snat', { [Annotations.targetType]: 'ip', [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true' }, [http]),
    ]);
  }, 400_000);

  afterAll(async () => {
    await removeNamespaceThenNodes(env.core, ns, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    readiness?.remove();
    env?.close();
  }, 180_000);

  it('the NLB DNS name resolves inside the VPC to addresses of its subnets', async () => {
    // The data plane serves the name once it has read the NLB (within a second of a change, longer under load).
    const resolved = await waitFor(async () => {
      const answer = await vpcExec(['getent', 'ahostsv4', instanceName]);
      return answer.code === 0 && answer.stdout;
    }, { description: `${instanceName} to resolve in the VPC`, timeoutMs: 30_000 });
    expect(resolved).toMatch(/^10\.0\.\d+\.\d+\s/m);
    expect((await vpcExec(['getent', 'hosts', 'no-such-name.elb.us-east-1.amazonaws.com'])).code).not.toBe(0);
  });

  it('instance targets: 100 requests through the NLB (via the nodes kube-proxy) reach every ready pod', async () => {
    const pods = await readyPods(4);
    const seen = await hostnamesThrough(instanceName, 2);
    expect([...seen].sort()).toEqual(pods.map((p) => p.metadata!.name!).sort());
  });

  it('ip targets: 100 requests through the NLB reach every ready pod; UDP through the UDP listener', async () => {
    const pods = await readyPods(4);
    const names = pods.map((p) => p.metadata!.name!).sort();
    const seen = await hostnamesThrough(ipName, 4);
    expect([...seen].sort()).toEqual(names);
    const udp = await vpcExec([
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       const t = setTimeout(() => { console.log('ERR timeout'); process.exit(0); }, 3000);
       require('node:dns').lookup(process.argv[1], { family: 4 }, (e, a) => {
         if (e) { console.log('ERR ' + e.message); process.exit(0); }
         s.on('message', (m) => { clearTimeout(t); console.log(m.toString()); s.close(); });
         s.send('hostname', 81, a);
       });`,
      ipName,
    ]);
    expect(names).toContain(udp.stdout.trim());
  });

  it('preserve_client_ip: the pod sees the bastion when on, the NLB address when off', async () => {
    await readyPods(4);
    await hostnamesThrough(ipName, 4);
    const kept = await curlFromBastion(ipName, '/clientip', 5);
    for (const line of kept) expect(line.split(':')[0]).toBe(bastionIp);
    await hostnamesThrough(snatName, 4);
    const nlbAddresses = (await vpcExec(['getent', 'ahostsv4', snatName])).stdout.split('\n').map((line) => line.split(/\s+/)[0]).filter(Boolean);
    const snatted = await curlFromBastion(snatName, '/clientip', 5);
    for (const line of snatted) expect(nlbAddresses).toContain(line.split(':')[0]);
    expect(nlbAddresses).not.toContain(bastionIp);
  });

  it('proxy_protocol_v2: the target reads a PPv2 header with the bastion as source and the NLB address as destination', async () => {
    // Any image other than agnhost runs the stand-in podserver, which echoes TCP that is not HTTP: it sends back
    // exactly what the NLB sent it, header included.
    await createDeployment('echo', 1, { name: 'echo', image: 'busybox', ports: [{ containerPort: 9000 }] });
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: {
          name: 'ppv2',
          annotations: {
            [Annotations.scheme]: 'internal',
            [Annotations.targetType]: 'ip',
            [Annotations.proxyProtocol]: '*',
            [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true',
          },
        },
        spec: { type: 'LoadBalancer', selector: { app: 'echo' }, ports: [{ port: 9000, targetPort: 9000, protocol: 'TCP' }] },
      },
    });
    const name = await waitFor(
      async () => (await env.core.readNamespacedService({ name: 'ppv2', namespace: ns.name })).status?.loadBalancer?.ingress?.[0]?.hostname,
      { description: 'Service ppv2 gets its NLB', timeoutMs: 120_000 },
    );
    const exchange = async (): Promise<string> =>
      (
        await vpcExec([
          process.execPath,
          '-e',
          `const net = require('node:net');
           require('node:dns').lookup(process.argv[1], { family: 4 }, (e, address) => {
             if (e) { console.log('ERR ' + e.message); return; }
             const socket = net.connect(9000, address, () => socket.write('hello'));
             let got = Buffer.alloc(0);
             const timer = setTimeout(() => { console.log('ERR timeout ' + got.toString('hex')); process.exit(0); }, 3000);
             socket.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= 33) { clearTimeout(timer); console.log(address + ' ' + got.toString('hex')); process.exit(0); } });
             socket.on('error', (err) => { console.log('ERR ' + err.message); process.exit(0); });
           });`,
          name,
        ])
      ).stdout.trim();
    const answer = await waitFor(async () => {
      const line = await exchange();
      return line.startsWith('ERR') ? undefined : line;
    }, { description: `an echo through ${name}`, timeoutMs: 90_000 });
    const [nlbAddress, hex] = answer.split(' ') as [string, string];
    const bytes = Buffer.from(hex, 'hex');
    const ipv4 = (offset: number) => [...bytes.subarray(offset, offset + 4)].join('.');
    expect(bytes.subarray(0, 12).toString('hex')).toBe('0d0a0d0a000d0a515549540a');
    expect([bytes[12], bytes[13], bytes.readUInt16BE(14)]).toEqual([0x21, 0x11, 12]);
    expect(ipv4(16)).toBe(bastionIp);
    expect(ipv4(20)).toBe(nlbAddress);
    expect(bytes.readUInt16BE(26)).toBe(9000);
    expect(bytes.subarray(28).toString()).toBe('hello');
  });

  it('idle timeouts: TCP flows idle out after 350 s or the listener attribute, UDP after 120 s (conntrack in the router)', async () => {
    await readyPods(4);
    await hostnamesThrough(ipName, 4);
    const first = keptConnection(env, ipName);
    try {
      expect(await first.get('/hostname')).toMatch(/^web-/);
      // The kernel's default for an established TCP flow is 5 days: ≤ 350 s proves the listener's timeout applies.
      expect(Math.max(...routerFlowTimeouts('tcp', bastionIp, 80))).toBeLessThanOrEqual(350);
      expect(Math.max(...routerFlowTimeouts('tcp', bastionIp, 80))).toBeGreaterThan(300);
      const lbs = await env.aws.elbv2.send(new DescribeLoadBalancersCommand({}));
      const lbArn = lbs.LoadBalancers!.find((l) => l.DNSName === ipName)!.LoadBalancerArn!;
      const listeners = await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
      const tcpListener = listeners.Listeners!.find((l) => l.Protocol === 'TCP')!.ListenerArn!;
      await env.aws.elbv2.send(new ModifyListenerAttributesCommand({ ListenerArn: tcpListener, Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '90' }] }));
      // New flows get 90 s; the open one keeps what it started with.
      await waitFor(
        async () => {
          await curlFromBastion(ipName, '/hostname', 1);
          return routerFlowTimeouts('tcp', bastionIp, 80).some((timeout) => timeout <= 90);
        },
        { description: 'a new flow idles out after 90 s', timeoutMs: 30_000 },
      );
      expect(await first.get('/hostname')).toMatch(/^web-/);
      await vpcExec([process.execPath, '-e', `require('node:dns').lookup('${ipName}', { family: 4 }, (e, a) => { const s = require('node:dgram').createSocket('udp4'); s.send('hostname', 81, a, () => setTimeout(() => process.exit(0), 300)); });`]);
      const udp = routerFlowTimeouts('udp', bastionIp, 81);
      expect(udp.length).toBeGreaterThan(0);
      expect(Math.max(...udp)).toBeLessThanOrEqual(120);
    } finally {
      first.close();
    }
  });

  it('deregistration: an open connection to a deregistered target keeps working while new connections avoid it', async () => {
    const pods = await readyPods(4);
    await hostnamesThrough(ipName, 4);
    const connection = keptConnection(env, ipName);
    try {
      const target = await connection.get('/hostname');
      expect(target).toMatch(/^web-/);
      // Make that pod unready: its endpoint turns not-ready and the controller deregisters its address.
      readiness.unready(target);
      const pod = pods.find((p) => p.metadata!.name === target)!;
      const groupArn = await tcpTargetGroupOf(ipName);
      await waitFor(
        async () => {
          const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }));
          return health.TargetHealthDescriptions?.some((d) => d.Target?.Id === pod.status!.podIP && d.TargetHealth?.State === 'draining');
        },
        { description: `${target} (${pod.status!.podIP}) draining`, timeoutMs: 60_000 },
      );
      // Within a second the data plane stops sending new flows to it; 40 new connections never see it.
      await waitFor(async () => !(await curlFromBastion(ipName, '/hostname', 40)).includes(target), { description: `new connections avoid ${target}`, timeoutMs: 30_000 });
      // The open connection still reaches it (the deregistration delay is 300 s).
      expect(await connection.get('/hostname')).toBe(target);
      expect(await connection.get('/clientip')).toMatch(new RegExp(`^${bastionIp.replaceAll('.', '\\.')}:`));
    } finally {
      connection.close();
      readiness.readyAll();
    }
  });

  it('deregistration_delay.connection_termination: when the delay (5 s) is over, the open connection is cut', async () => {
    const pods = await readyPods(4);
    const termName = await loadBalancerService(
      'term',
      {
        [Annotations.targetType]: 'ip',
        [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true',
        [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=5,deregistration_delay.connection_termination.enabled=true',
      },
      [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    );
    await hostnamesThrough(termName, 4);
    const connection = keptConnection(env, termName);
    try {
      const target = await connection.get('/hostname');
      readiness.unready(target);
      const pod = pods.find((p) => p.metadata!.name === target)!;
      const groupArn = await tcpTargetGroupOf(termName);
      await waitFor(
        async () => {
          const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }));
          return health.TargetHealthDescriptions?.some((d) => d.Target?.Id === pod.status!.podIP && d.TargetHealth?.State === 'draining');
        },
        { description: `${target} draining`, timeoutMs: 60_000 },
      );
      // Draining: the connection still works.
      expect(await connection.get('/hostname')).toBe(target);
      // After the delay the data plane deletes the flow's conntrack entry: the next request on it is answered by
      // no one who knows the connection (reset), or the client had to open a new one.
      const after = await waitFor(
        async () => {
          const answer = await connection.get('/hostname');
          return answer === target ? undefined : answer;
        },
        { description: 'the kept connection cut after the delay', timeoutMs: 30_000, intervalMs: 1000 },
      );
      expect(after).toMatch(/^(ERR|NEWCONN) /);
    } finally {
      connection.close();
      readiness.readyAll();
    }
  });
});
