import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween } from '../../src/cloud/calls.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { EXCLUDE_FROM_LB_LABEL } from '../../src/core/model.ts';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { INSTANCE_ID_ANNOTATION } from '../../src/core/nodes.ts';
import { isRegistered } from '../../src/core/target-health.ts';
import {
  agnhostDeployment,
  connect,
  createKwokNode,
  createTestNamespace,
  deleteNodes,
  HTTP_SERVICE_PORT,
  loadBalancerServiceBody,
  podTargets,
  uniqueName,
  waitFor,
  waitForLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** "Another cluster's" pod: outside the VPC and the kwok pod range, so no address of this cluster (a simulated target). */
const FOREIGN = '100.65.0.9';
const TARGET_PORT = 8080;

/**
 * multi-cluster-target-group (ADR 0017) against the real kube-apiserver and the emulator: a target another
 * cluster registered in the Service's target group survives our reconciles while the annotation says the group
 * is shared, our own targets still follow the pods, and without the annotation the next reconcile removes it
 * (the annotation may change on a live Service, as in the LBC).
 */
describe('multi-cluster target groups', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const node = uniqueName('mc-node');
  const nodeLabel = { 'cloud-provider-localstack/test-node': 'multi-cluster' };
  let targetGroupArn = '';
  let foreignInstance: string | undefined;

  const registered = async (arn = targetGroupArn) => {
    const { TargetHealthDescriptions } = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    return (TargetHealthDescriptions ?? [])
      .filter((d) => isRegistered({ state: d.TargetHealth?.State ?? '', ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}) }))
      .map((d) => `${d.Target!.Id}:${d.Target!.Port}`)
      .sort();
  };
  /** Waits until the group holds exactly the running pods (and the foreign target when `foreign`). */
  const waitForTargets = (replicas: number, foreign: boolean) =>
    waitFor(
      async () => {
        const pods = await podTargets(env, ns.name, 'app=web', TARGET_PORT);
        if (pods.length !== replicas) return undefined;
        const want = [...pods, ...(foreign ? [`${FOREIGN}:${TARGET_PORT}`] : [])].sort();
        const have = await registered();
        return JSON.stringify(have) === JSON.stringify(want) ? have : undefined;
      },
      { description: `${replicas} pod targets${foreign ? ' and the foreign one' : ''}`, timeoutMs: 60_000 },
    );
  const scale = (replicas: number) => env.apps.patchNamespacedDeploymentScale({ namespace: ns.name, name: 'web', body: { spec: { replicas } } }, mergePatch);
  const annotate = (annotations: Record<string, string | null>) => env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { metadata: { annotations } } }, mergePatch);
  const registerForeign = () => env.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: FOREIGN, Port: TARGET_PORT, AvailabilityZone: 'all' }] }));
  const resync = async () => {
    await cluster.manager.idle();
    await cluster.manager.service!.resync();
    await cluster.manager.idle();
  };

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'mcluster');
    // An ENI-pool node: its pods get VPC addresses from the pool (ADR 0006).
    await createKwokNode(env.core, node, { labels: { ...nodeLabel, [IPAM_NODE_LABEL]: 'enabled', 'node.kubernetes.io/instance-type': 't3.small' } });
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=multi-cluster' });
    // kwok plays the pods (no agnhost runs): their addresses are all the test needs.
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('web', { replicas: 2, nodeSelector: nodeLabel, readinessProbe: null }) });
    const annotations = { [Annotations.targetType]: 'ip', [Annotations.multiClusterTargetGroup]: 'true' };
    await env.core.createNamespacedService({ namespace: ns.name, body: loadBalancerServiceBody('web', { annotations, ports: [{ ...HTTP_SERVICE_PORT, targetPort: TARGET_PORT }] }) });
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => (o.listeners[0]?.targets.length ?? 0) === 2);
    targetGroupArn = lb.listeners[0]!.targetGroupArn;
  });

  afterAll(async () => {
    await cluster?.stop();
    if (foreignInstance) await env.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [foreignInstance] })).catch(() => undefined);
    await ns?.remove();
    await deleteNodes(env.core, [node]);
    await cluster?.sweep();
    env?.close();
  });

  it('a target another cluster registered survives our resyncs; our own targets follow the pods', async () => {
    await waitForTargets(2, false);
    await registerForeign();
    await resync();
    await resync();
    await waitForTargets(2, true);

    // Scaling down deregisters our pod, never theirs; scaling up registers ours beside it.
    await scale(1);
    await waitForTargets(1, true);
    await scale(3);
    await waitForTargets(3, true);

    // Converged with the foreign target in the group: a resync writes nothing.
    await resync();
    const before = cluster.manager.aws.calls.snapshot();
    await resync();
    const writes = Object.entries(callsBetween(before, cluster.manager.aws.calls.snapshot())).filter(([op]) => !/:(Describe|List|Get)/.test(op));
    expect(writes).toEqual([]);
    await waitForTargets(3, true);
  });

  it('without the annotation the next reconcile removes the foreign target; with it again, a new one stays', async () => {
    await annotate({ [Annotations.multiClusterTargetGroup]: null });
    await waitForTargets(3, false);

    await annotate({ [Annotations.multiClusterTargetGroup]: 'true' });
    await resync();
    await registerForeign();
    await resync();
    await scale(2);
    await waitForTargets(2, true);
  });

  it('after a restart, a pod deleted while we were down is ours by its ENI-pool address and goes', async () => {
    await registerForeign();
    await waitForTargets(2, true);
    const before = await podTargets(env, ns.name, 'app=web', TARGET_PORT);
    await cluster.manager.stop();
    await scale(1);
    await waitFor(async () => (await podTargets(env, ns.name, 'app=web', TARGET_PORT)).length === 1, { description: 'one pod left', timeoutMs: 60_000 });
    await cluster.restart();
    const left = await waitForTargets(1, true);
    // The deleted pod's address was a VPC address of the pool (no pod, no pod CIDR holds it any more).
    const gone = before.filter((t) => !left.includes(t));
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatch(/^10\.0\./);
  });

  it('instance targets: another cluster\'s instance stays; our Node\'s instance leaves once the Node is excluded while we were down', async () => {
    const ours = await waitFor(async () => (await env.core.readNode({ name: node })).metadata?.annotations?.[INSTANCE_ID_ANNOTATION], { description: `instance of ${node}` });
    const annotations = { [Annotations.targetType]: 'instance', [Annotations.multiClusterTargetGroup]: 'true' };
    const created = await env.core.createNamespacedService({ namespace: ns.name, body: loadBalancerServiceBody('nodes', { selector: { app: 'web' }, annotations }) });
    const nodePort = created.spec!.ports![0]!.nodePort!;
    const lb = await waitForLoadBalancer(env, ns.name, 'nodes', (o) => (o.listeners[0]?.targets.length ?? 0) === 1);
    const arn = lb.listeners[0]!.targetGroupArn;
    const run = await env.aws.ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.small', MinCount: 1, MaxCount: 1, SubnetId: env.network.privateSubnets[0]!.id }),
    );
    foreignInstance = run.Instances![0]!.InstanceId!;
    await env.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: foreignInstance, Port: nodePort }] }));
    await resync();
    expect(await registered(arn)).toEqual([`${ours}:${nodePort}`, `${foreignInstance}:${nodePort}`].sort());

    // Our Node excluded from load balancers while the controller is down, so nothing remembers registering its
    // instance: it is ours by the Node alone and goes; theirs stays.
    await cluster.manager.stop();
    await env.core.patchNode({ name: node, body: { metadata: { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' } } } }, mergePatch);
    await cluster.restart();
    await waitFor(async () => JSON.stringify(await registered(arn)) === JSON.stringify([`${foreignInstance}:${nodePort}`]), { description: 'only the foreign instance', timeoutMs: 60_000 });
    await resync();
    expect(await registered(arn)).toEqual([`${foreignInstance}:${nodePort}`]);
  });
});
