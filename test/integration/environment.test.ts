import { DescribeSubnetsCommand, DescribeVpcsCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyTargetGroupAttributesCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createKwokNode, createTestNamespace, deleteNodes, isNodeReady, isPodReady, uniqueName, waitFor, type TestEnvironment } from '../../src/testing/index.ts';

// Proves the local environment is real: the control plane's controllers act on what the API is given, and the
// emulator keeps ELBv2/EC2 state. Everything here is created under names and tags unique to this run.
describe('local environment', () => {
  let env: TestEnvironment;
  let namespace: { name: string; remove: () => Promise<void> };
  const nodeName = uniqueName('env-node');
  const runTag = uniqueName('env-test');

  beforeAll(async () => {
    env = connect();
    namespace = await createTestNamespace(env.core, 'env');
  });

  afterAll(async () => {
    await namespace?.remove();
    await deleteNodes(env.core, [nodeName]);
    env?.close();
  });

  it('kube-apiserver serves v1.36 with RBAC', async () => {
    const version = await fetchVersion(env);
    expect(version).toMatch(/^v1\.36\./);
  });

  it('kwok makes a Node Ready, the scheduler places a Pod and kwok runs it', async () => {
    await createKwokNode(env.core, nodeName, { labels: { 'cloud-provider-localstack/test-node': nodeName } });
    const node = await waitFor(async () => {
      const current = await env.core.readNode({ name: nodeName });
      return isNodeReady(current) && current;
    }, { description: `node ${nodeName} Ready` });
    expect(node.status?.nodeInfo?.kubeletVersion).toContain('kwok');

    await env.core.createNamespacedPod({
      namespace: namespace.name,
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          nodeSelector: { 'cloud-provider-localstack/test-node': nodeName },
          containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }],
        },
      },
    });
    const pod = await waitFor(async () => {
      const current = await env.core.readNamespacedPod({ namespace: namespace.name, name: 'web' });
      return isPodReady(current) && current;
    }, { description: 'pod web Running/Ready' });
    expect(pod.spec?.nodeName).toBe(nodeName);
    expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('a LoadBalancer Service gets a nodePort from kube-apiserver and an EndpointSlice from kube-controller-manager', async () => {
    const service = await env.core.createNamespacedService({
      namespace: namespace.name,
      body: {
        metadata: { name: 'web' },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
      },
    });
    const nodePort = service.spec?.ports?.[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    expect(service.spec?.clusterIP).toMatch(/^172\.20\./);

    const pod = await env.core.readNamespacedPod({ namespace: namespace.name, name: 'web' });
    const slice = await waitFor(async () => {
      const slices = await env.discovery.listNamespacedEndpointSlice({ namespace: namespace.name, labelSelector: 'kubernetes.io/service-name=web' });
      return slices.items.find((s) => s.endpoints?.some((e) => e.addresses.includes(pod.status!.podIP!) && e.conditions?.ready));
    }, { description: 'an EndpointSlice with the pod ready' });
    expect(slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.ports?.[0]?.port).toBe(8080);
  });

  it('the seeded VPC and subnets are found by tag', async () => {
    const { clusterName } = env.network;
    const vpcs = await env.aws.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${clusterName}`, Values: ['shared'] }] }));
    expect(vpcs.Vpcs?.map((v) => v.VpcId)).toContain(env.network.vpcId);
    const byRole = async (role: string) =>
      (
        await env.aws.ec2.send(
          new DescribeSubnetsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [env.network.vpcId] },
              { Name: `tag:${role}`, Values: ['1'] },
              { Name: `tag:kubernetes.io/cluster/${clusterName}`, Values: ['shared', 'owned'] },
            ],
          }),
        )
      ).Subnets ?? [];
    const publicSubnets = await byRole('kubernetes.io/role/elb');
    const privateSubnets = await byRole('kubernetes.io/role/internal-elb');
    expect(new Set(publicSubnets.map((s) => s.AvailabilityZone)).size).toBe(3);
    expect(new Set(privateSubnets.map((s) => s.AvailabilityZone)).size).toBe(3);
    expect(publicSubnets.map((s) => s.SubnetId).sort()).toEqual(env.network.publicSubnets.map((s) => s.id).sort());
  });

  it('an NLB, a target group of each target type, a listener and target registrations round-trip through the emulator, with target health as AWS reports it', async () => {
    const { ec2, elbv2 } = env.aws;
    const tags = [{ Key: 'cloud-provider-localstack/test', Value: runTag }];
    const instance = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.small',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: env.network.privateSubnets[0]!.id,
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
      }),
    );
    const instanceId = instance.Instances![0]!.InstanceId!;
    const created: { lb?: string; tgs: string[] } = { tgs: [] };
    try {
      const lb = await elbv2.send(
        new CreateLoadBalancerCommand({
          Name: runTag.slice(0, 32),
          Type: 'network',
          Scheme: 'internal',
          Subnets: env.network.privateSubnets.map((s) => s.id),
          Tags: tags,
        }),
      );
      created.lb = lb.LoadBalancers![0]!.LoadBalancerArn!;
      const active = await waitFor(async () => {
        const found = await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [created.lb!] }));
        return found.LoadBalancers?.[0]?.State?.Code === 'active' && found.LoadBalancers[0];
      }, { description: 'NLB active' });
      expect(active.DNSName).toBeTruthy();

      const targetGroup = async (type: 'instance' | 'ip', port: number) => {
        const tg = await elbv2.send(
          new CreateTargetGroupCommand({ Name: `${type}-${runTag}`.slice(0, 32), Protocol: 'TCP', Port: port, VpcId: env.network.vpcId, TargetType: type, Tags: tags }),
        );
        const arn = tg.TargetGroups![0]!.TargetGroupArn!;
        created.tgs.push(arn);
        return arn;
      };
      const instanceTg = await targetGroup('instance', 31000);
      const ipTg = await targetGroup('ip', 8080);
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: instanceTg, Targets: [{ Id: instanceId, Port: 31000 }] }));
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: ipTg, Targets: [{ Id: '10.0.64.10', Port: 8080 }] }));
      await elbv2.send(
        new CreateListenerCommand({ LoadBalancerArn: created.lb, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: ipTg }] }),
      );

      const listeners = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: created.lb }));
      expect(listeners.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn).toBe(ipTg);
      const health = async (arn: string) => (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
      const states = async (arn: string) => (await health(arn)).map((t) => [t.Target?.Id, t.TargetHealth?.State, t.TargetHealth?.Reason]);
      expect((await health(instanceTg)).map((t) => [t.Target?.Id, t.Target?.Port])).toEqual([[instanceId, 31000]]);
      // As on AWS: a group no listener forwards to is not health-checked (localstack/cpl_emulator).
      expect(await states(instanceTg)).toEqual([[instanceId, 'unused', 'Target.NotInUse']]);
      // In use: measured by the data plane (the nlb component), which reports a target no namespace holds
      // (simulated, as 10.0.64.10 here) healthy without checks; until its first report, registration is in progress.
      const inUse = await waitFor(async () => {
        const now = await states(ipTg);
        return now[0]?.[1] !== 'initial' && now;
      }, { description: 'the data plane to report the ip target' });
      expect(inUse).toEqual([['10.0.64.10', 'healthy', undefined]]);
      // A deregistered target drains for the group's deregistration delay and is listed meanwhile.
      await elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: ipTg, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '2' }] }));
      await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: ipTg, Targets: [{ Id: '10.0.64.10', Port: 8080 }] }));
      expect(await states(ipTg)).toEqual([['10.0.64.10', 'draining', 'Target.DeregistrationInProgress']]);
      await waitFor(async () => (await health(ipTg)).length === 0, { description: 'the deregistration delay to end' });
      // Every call above went through the one counter the metrics and benchmarks read.
      expect(env.aws.calls.snapshot()['ELBv2:RegisterTargets']).toBeGreaterThanOrEqual(2);
    } finally {
      if (created.lb) await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: created.lb }));
      for (const arn of created.tgs) await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    }
  });
});

async function fetchVersion(env: TestEnvironment): Promise<string> {
  const { VersionApi } = await import('@kubernetes/client-node');
  const info = await env.kubeconfig.makeApiClient(VersionApi).getCode();
  return info.gitVersion;
}
