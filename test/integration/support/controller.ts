import {
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { EniTags } from '../../../src/cloud/eni.ts';
import { allLoadBalancerAndTargetGroupArns } from './resources.ts';
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTagsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { IpamSettings } from '../../../src/controllers/ipam/controller.ts';
import { Manager, type ControllerName } from '../../../src/controllers/manager.ts';
import type { ControllerDefaults } from '../../../src/core/controller-defaults.ts';
import { statePaths } from '../../../src/devenv/paths.ts';
import { createLogger } from '../../../src/log.ts';
import { sweepSecurityGroups, uniqueName, waitFor, type TestEnvironment } from '../../../src/testing/index.ts';

/**
 * Each integration test file runs its own controller manager under its own cluster name: the AWS tags it
 * writes and reads are its own, so files never see each other's load balancers. The seeded network is
 * shared: the file's cluster is added to the VPC's and subnets' cluster tags for the duration.
 */
export interface TestCluster {
  name: string;
  manager: Manager;
  /** A new manager in place of the old one; with `defaults`, run with other controller-wide flags from now on. */
  restart(changes?: { defaults?: ControllerDefaults }): Promise<void>;
  stop(): Promise<void>;
  /** Deletes whatever AWS resources still carry this cluster's tag, returning what it found (should be none). */
  sweep(): Promise<string[]>;
}

export async function joinNetwork(env: TestEnvironment, cluster: string): Promise<() => Promise<void>> {
  const resources = [env.network.vpcId, ...env.network.publicSubnets.map((s) => s.id), ...env.network.privateSubnets.map((s) => s.id)];
  await env.aws.ec2.send(new CreateTagsCommand({ Resources: resources, Tags: [{ Key: `kubernetes.io/cluster/${cluster}`, Value: 'shared' }] }));
  return async () => {
    await env.aws.ec2.send(new DeleteTagsCommand({ Resources: resources, Tags: [{ Key: `kubernetes.io/cluster/${cluster}` }] }));
  };
}

export async function startTestCluster(
  env: TestEnvironment,
  options: {
    controllers?: ControllerName[];
    resyncPeriodMs?: number;
    instanceType?: string;
    ipam?: Partial<IpamSettings>;
    /** The file's namespace: its controller sees no other Services (the demo's, a benchmark's, ...). */
    watchNamespace?: string;
    /** The file's nodes: its controllers manage no other Nodes. */
    nodeSelector?: string;
    /** The LBC's controller-wide flags (--default-tags, ...). */
    defaults?: ControllerDefaults;
  } = {},
): Promise<TestCluster> {
  const name = uniqueName('it');
  const leave = await joinNetwork(env, name);
  const create = () =>
    new Manager({
      kubeconfig: statePaths.kubeconfig,
      clusterName: name,
      region: env.aws.settings.region,
      endpoint: env.aws.settings.endpoint!,
      credentials: env.aws.settings.credentials!,
      vpcId: env.network.vpcId,
      controllers: options.controllers ?? ['service', 'node'],
      ...(options.watchNamespace ? { watchNamespace: options.watchNamespace } : {}),
      ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
      ...(options.defaults ? { defaults: options.defaults } : {}),
      concurrency: 4,
      resyncPeriodMs: options.resyncPeriodMs ?? 60_000,
      node: { instanceType: options.instanceType ?? 'm5.large', imageId: 'ami-12c6146b', securityGroupIds: [env.network.nodeSecurityGroupId] },
      ipam: {
        warm: { warmEniTarget: 1 },
        cooldownMs: 30_000,
        verifyUniqueAddresses: true,
        leakedEniGraceMs: 300_000,
        resyncPeriodMs: 10_000,
        ...options.ipam,
      },
      log: createLogger({ level: process.env.CPL_TEST_LOG_LEVEL ?? 'warn', format: 'text' }),
    });
  const cluster: TestCluster = {
    name,
    manager: create(),
    async restart(changes = {}) {
      Object.assign(options, changes);
      await cluster.manager.stop();
      cluster.manager = create();
      await cluster.manager.start();
    },
    async stop() {
      // Delete the file's Services while the controller still runs, so it removes what it created and its
      // finalizers (a namespace left with our finalizer and no controller would never finish terminating).
      if (options.watchNamespace) {
        const namespace = options.watchNamespace;
        const services = await env.core.listNamespacedService({ namespace }).catch(() => ({ items: [] }));
        for (const service of services.items) await env.core.deleteNamespacedService({ namespace, name: service.metadata!.name! }).catch(() => undefined);
        await waitFor(
          async () => (await env.core.listNamespacedService({ namespace })).items.every((s) => !s.metadata?.finalizers?.includes('service.k8s.aws/resources')),
          { description: 'our finalizers released', timeoutMs: 30_000 },
        ).catch(() => undefined);
      }
      await cluster.manager.stop();
      await leave();
    },
    sweep: () => sweepCluster(env, name),
  };
  await cluster.manager.start();
  return cluster;
}

/** Deletes every LB, target group and instance tagged for the cluster; returns their ids. */
export async function sweepCluster(env: TestEnvironment, cluster: string): Promise<string[]> {
  const { elbv2, ec2 } = env.aws;
  const found: string[] = [];
  const arns = await allLoadBalancerAndTargetGroupArns(env);
  for (let i = 0; i < arns.length; i += 20) {
    const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of tags.TagDescriptions ?? []) {
      if (d.Tags?.some((t) => t.Key === 'elbv2.k8s.aws/cluster' && t.Value === cluster)) found.push(d.ResourceArn!);
    }
  }
  for (const arn of found.filter((a) => a.includes(':loadbalancer/'))) await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
  for (const arn of found.filter((a) => a.includes(':targetgroup/'))) await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })).catch(() => undefined);
  const instances = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${cluster}`, Values: ['owned'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }),
  );
  const ids = (instances.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
  if (ids.length) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  // ENIs the pool created for the cluster's nodes (the emulator does not delete them with the instance).
  const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${EniTags.cluster}`, Values: [cluster] }] }));
  for (const eni of enis.NetworkInterfaces ?? []) {
    if (eni.Attachment?.AttachmentId) await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment.AttachmentId, Force: true })).catch(() => undefined);
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId! })).catch(() => undefined);
  }
  // Not in the answer: a Service a test leaves behind keeps the backend group by design.
  await sweepSecurityGroups(env, cluster);
  return [...found, ...ids];
}

/** Events recorded for an object, oldest first. */
export async function eventsFor(env: TestEnvironment, namespace: string, name: string): Promise<CoreV1Event[]> {
  const core = env.kubeconfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.sort((a, b) => String(a.lastTimestamp ?? '').localeCompare(String(b.lastTimestamp ?? '')));
}

export async function waitForEvent(env: TestEnvironment, namespace: string, name: string, reason: string, contains = ''): Promise<CoreV1Event> {
  return waitFor(
    async () => (await eventsFor(env, namespace, name)).find((e) => e.reason === reason && (e.message ?? '').includes(contains)),
    { description: `event ${reason} on ${namespace}/${name}`, timeoutMs: 30_000 },
  );
}
