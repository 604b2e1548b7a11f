import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeListenerCertificatesCommand, DescribeListenersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, type Listener } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween, isMutating } from '../../src/cloud/calls.ts';
import { TlsAnnotations } from '../../src/core/tls.ts';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestCertificate,
  createTestNamespace,
  httpThroughLoadBalancer,
  httpsThroughLoadBalancer,
  importTestCertificate,
  removeNamespaceThenNodes,
  uniqueName,
  waitFor,
  waitForLoadBalancer,
  waitForNetworkedNodes,
  waitForReadyPods,
  type TestCertificate,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';
import { ourResources } from './support/resources.ts';

// TLS listeners end to end (issue 12, ADR 0015): a Service with ssl-cert gets a TLS listener whose certificate
// the NLB's data plane serves with the key imported into the emulator's ACM, so curl --cacert from the VPC's
// bastion verifies the NLB's DNS name and reaches a pod; a plain port of the same Service stays TCP; ssl-cert
// added to a live Service changes its listener in place; a bad alpn-policy never reaches AWS.
describe('TLS listeners: terminated by the NLB data plane with the ACM certificate', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  let certificate: TestCertificate;
  let imported: { arn: string; remove: () => Promise<void> };
  const nodes = [uniqueName('tls-node'), uniqueName('tls-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'tls-listener' };
  const http = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };
  const https = { name: 'https', port: 443, targetPort: 8080, protocol: 'TCP' };
  let podNames: string[] = [];
  let tlsPodNames: string[] = [];
  const backendDir = mkdtempSync(join(tmpdir(), 'cpl-tls-backend-'));

  const createService = (name: string, annotations: Record<string, string>, ports = [http, https], app = 'web') =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal', ...annotations } }, spec: { type: 'LoadBalancer', selector: { app }, ports } },
    });
  const annotate = (name: string, annotations: Record<string, string | null>) =>
    env.core.patchNamespacedService({ namespace: ns.name, name, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const listenersOf = async (lbArn: string): Promise<Listener[]> => (await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
  const writesSince = (before: Record<string, number>) =>
    Object.fromEntries(Object.entries(callsBetween(before, cluster.manager.aws.calls.snapshot())).filter(([key]) => isMutating(key.slice(key.indexOf(':') + 1))));
  /** A Deployment of `replicas` agnhost pods on this file's nodes, labelled app=<name>, ready when 8080 accepts (HTTP or HTTPS). */
  const createDeployment = (name: string, replicas: number, args: string[] = []) =>
    env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: agnhostDeployment(name, { replicas, nodeSelector: testLabel, args, readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }),
    });
  const readyPods = async (app: string, count: number) => (await waitForReadyPods(env.core, ns.name, `app=${app}`, count)).map((p) => p.metadata!.name!);
  /** HTTPS through the NLB until it answers with a pod name (the data plane applies a change within seconds). */
  const podThroughTls = (name: string, pods = podNames) =>
    waitFor(
      async () => {
        const answer = await httpsThroughLoadBalancer(env, { namespace: ns.name, name }, { caPem: certificate.caPem, path: '/hostname' });
        return answer.status === 200 && pods.includes(answer.body.trim()) && answer.body.trim();
      },
      { description: `https through the NLB of ${name} answers with a pod name`, timeoutMs: 90_000 },
    );

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'tls');
    certificate = createTestCertificate(env.aws.settings.region);
    imported = await importTestCertificate(env, certificate);
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=tls-listener' });
    for (const name of nodes) await createNetworkedNode(env.core, name, { labels: testLabel });
    await waitForNetworkedNodes(env.core, nodes);
    // The HTTPS pods (backend-protocol ssl) serve a certificate of their own from files (a pod's process shares the host's files).
    const backend = createTestCertificate(env.aws.settings.region, ['tlsweb.internal']);
    writeFileSync(join(backendDir, 'tls.crt'), backend.certificatePem);
    writeFileSync(join(backendDir, 'tls.key'), backend.privateKeyPem);
    await createDeployment('web', 2);
    await createDeployment('tlsweb', 2, [`--tls-cert-file=${join(backendDir, 'tls.crt')}`, `--tls-private-key-file=${join(backendDir, 'tls.key')}`]);
    podNames = await readyPods('web', 2);
    tlsPodNames = await readyPods('tlsweb', 2);
  }, 400_000);

  afterAll(async () => {
    await removeNamespaceThenNodes(env.core, ns, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    await imported?.remove().catch(() => undefined);
    rmSync(backendDir, { recursive: true, force: true });
    env?.close();
  }, 180_000);

  let tlsListenerArn = '';

  it('ssl-cert + ssl-ports: port 443 answers HTTPS verified against the CA (a pod name), port 80 stays plain TCP, converged with 0 writes per resync', async () => {
    await cluster.manager.idle();
    const beforeCreate = cluster.manager.aws.calls.snapshot();
    await createService('tls', { [TlsAnnotations.certificates]: imported.arn, [TlsAnnotations.ports]: 'https' });
    const lb = await waitForLoadBalancer(env, ns.name, 'tls', (observed) => observed.listeners.length === 2);
    const listeners = await listenersOf(lb.arn);
    const byPort = new Map(listeners.map((l) => [l.Port, l]));
    expect([byPort.get(80)?.Protocol, byPort.get(443)?.Protocol]).toEqual(['TCP', 'TLS']);
    expect(byPort.get(443)?.Certificates?.[0]?.CertificateArn).toBe(imported.arn);
    expect(byPort.get(443)?.SslPolicy).toBe('ELBSecurityPolicy-2016-08');
    tlsListenerArn = byPort.get(443)!.ListenerArn!;

    expect(podNames).toContain(await podThroughTls('tls'));
    const plain = await waitFor(
      async () => (await httpThroughLoadBalancer(env, { namespace: ns.name, name: 'tls' }, { port: 80, path: '/hostname' }).catch(() => undefined))?.body.trim(),
      { description: 'plain http on port 80', timeoutMs: 30_000 },
    );
    expect(podNames).toContain(plain);

    await cluster.manager.idle();
    const created = callsBetween(beforeCreate, cluster.manager.aws.calls.snapshot());
    const count = (calls: Record<string, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0);
    // What a 2-port Service with one TLS listener cost to converge (reported, not asserted: it depends on health timing).
    process.stderr.write(`[tls-listener] creation: ${count(created)} AWS calls, ${count(writesSince(beforeCreate))} writes: ${JSON.stringify(writesSince(beforeCreate))}\n`);
    const before = cluster.manager.aws.calls.snapshot();
    await cluster.manager.service!.resync();
    await cluster.manager.idle();
    expect(writesSince(before)).toEqual({});
  });

  it('the security policy is the handshake\'s: ELBSecurityPolicy-2016-08 takes TLS 1.2, not 1.3; a TLS 1.3-only policy set in place takes 1.3 only', async () => {
    const through = (tlsVersion: '1.2' | '1.3') => httpsThroughLoadBalancer(env, { namespace: ns.name, name: 'tls' }, { caPem: certificate.caPem, path: '/hostname', tlsVersion });
    expect(podNames).toContain((await through('1.2')).body.trim());
    await expect(through('1.3')).rejects.toThrow(/curl exit/);

    const tls13 = 'ELBSecurityPolicy-TLS13-1-3-2021-06';
    await annotate('tls', { [TlsAnnotations.negotiationPolicy]: tls13 });
    const lb = await waitForLoadBalancer(env, ns.name, 'tls');
    const listener443 = async () => (await listenersOf(lb.arn)).find((l) => l.Port === 443);
    await waitFor(async () => (await listener443())?.SslPolicy === tls13, { description: `the 443 listener's policy is ${tls13}` });
    expect((await listener443())?.ListenerArn).toBe(tlsListenerArn);
    // The data plane serves the new policy within seconds of ModifyListener.
    await waitFor(async () => (await through('1.3').catch(() => undefined))?.status === 200, { description: 'TLS 1.3 accepted', timeoutMs: 30_000 });
    await expect(through('1.2')).rejects.toThrow(/curl exit/);
  });

  it('ssl-cert added to a live TCP Service changes its listener to TLS in place (same ListenerArn), and HTTPS answers', async () => {
    await createService('live', {}, [https]);
    const lb = await waitForLoadBalancer(env, ns.name, 'live', (observed) => observed.listeners.length === 1);
    const [tcp] = await listenersOf(lb.arn);
    expect(tcp?.Protocol).toBe('TCP');
    await waitFor(async () => (await httpThroughLoadBalancer(env, { namespace: ns.name, name: 'live' }, { port: 443, path: '/hostname' }).catch(() => undefined))?.status === 200, {
      description: 'plain http on 443 before ssl-cert',
      timeoutMs: 60_000,
    });

    await annotate('live', { [TlsAnnotations.certificates]: imported.arn });
    const tls = await waitFor(
      async () => {
        const [listener] = await listenersOf(lb.arn);
        return listener?.Protocol === 'TLS' && listener;
      },
      { description: 'the listener of live to turn TLS', timeoutMs: 60_000 },
    );
    expect(tls.ListenerArn).toBe(tcp!.ListenerArn);
    expect(podNames).toContain(await podThroughTls('live'));
    // Every certificate is also listed, the default one included, as the LBC lists them.
    const listed = await env.aws.elbv2.send(new DescribeListenerCertificatesCommand({ ListenerArn: tls.ListenerArn }));
    expect(listed.Certificates?.map((c) => [c.CertificateArn, c.IsDefault])).toEqual([
      [imported.arn, true],
      [imported.arn, false],
    ]);
  });

  it('backend-protocol ssl: the target group is TLS, HTTPS health checks pass, and the NLB re-encrypts to the pods\' HTTPS (their certificate not verified)', async () => {
    await createService(
      'backend',
      {
        [TlsAnnotations.certificates]: imported.arn,
        [TlsAnnotations.backendProtocol]: 'ssl',
        [TlsAnnotations.alpnPolicy]: 'HTTP1Only',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'HTTPS',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/healthz',
      },
      [https],
      'tlsweb',
    );
    const lb = await waitForLoadBalancer(env, ns.name, 'backend', (observed) => observed.listeners.length === 1);
    expect(lb.listeners[0]!.protocol).toBe('TLS');
    const groups = await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [lb.listeners[0]!.targetGroupArn] }));
    expect(groups.TargetGroups?.[0]?.Protocol).toBe('TLS');
    expect((await listenersOf(lb.arn))[0]?.AlpnPolicy).toEqual(['HTTP1Only']);
    expect(groups.TargetGroups?.[0]?.HealthCheckProtocol).toBe('HTTPS');
    // The data plane's HTTPS checks (through the nodes' kube-proxy to the pods' HTTPS) make both nodes healthy.
    await waitFor(
      async () => {
        const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.listeners[0]!.targetGroupArn }));
        const states = (health.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State);
        return states.length === 2 && states.every((state) => state === 'healthy');
      },
      { description: 'both node targets of the TLS group healthy by HTTPS checks', timeoutMs: 90_000 },
    );
    // Plaintext to an HTTPS server would be answered 400; a pod name means the NLB spoke TLS to it.
    expect(tlsPodNames).toContain(await podThroughTls('backend', tlsPodNames));
  });

  it('a bad alpn-policy on a TLS Service is a Warning naming annotation and value, and no AWS write', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    await createService('badalpn', { [TlsAnnotations.certificates]: imported.arn, [TlsAnnotations.alpnPolicy]: 'HTTP3Only' });
    const event = await waitForEvent(env, ns.name, 'badalpn', 'SyncLoadBalancerFailed', 'HTTP3Only');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(TlsAnnotations.alpnPolicy);
    await cluster.manager.idle();
    expect(writesSince(before)).toEqual({});
  });

  it('deleting the Services leaves no listener and no certificate binding behind', async () => {
    expect(tlsListenerArn).not.toBe('');
    for (const name of ['tls', 'live', 'backend', 'badalpn']) await env.core.deleteNamespacedService({ namespace: ns.name, name });
    await waitFor(
      async () => {
        const gone = await env.aws.elbv2.send(new DescribeListenerCertificatesCommand({ ListenerArn: tlsListenerArn })).then(
          () => false,
          (error: Error) => error.name === 'ListenerNotFoundException',
        );
        return gone;
      },
      { description: 'the TLS listener and its certificate bindings gone', timeoutMs: 60_000 },
    );
    await waitFor(
      async () => {
        const ours = await ourResources(env, cluster.name);
        return ours.loadBalancers.length === 0 && ours.targetGroups.length === 0;
      },
      { description: 'no NLB or target group of this cluster left', timeoutMs: 60_000 },
    );
  });
});
