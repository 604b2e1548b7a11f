import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AwsClients } from '../../cloud/clients.ts';
import { InstanceCloud, NetworkCloud } from '../../cloud/ec2.ts';
import { INSTANCE_ID_ANNOTATION, INSTANCE_TYPE_LABEL, parseProviderId, ZONE_LABEL } from '../../core/nodes.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Informer } from '../../kube/informer.ts';
import { isNotFound, mergePatchMetadata } from '../../kube/objects.ts';
import { WorkQueue, type ReconcileResult, type WorkQueueObserver } from '../../kube/workqueue.ts';

export interface NodeControllerOptions {
  kubeconfig: KubeConfig;
  clusterName: string;
  aws: AwsClients;
  vpcId?: string;
  instanceType: string;
  imageId: string;
  securityGroupIds: string[];
  resyncPeriodMs: number;
  log: Logger;
  events: EventRecorder;
  informers: { nodes: Informer<V1Node> };
  queueObserver?: WorkQueueObserver;
}

const INTERNAL_ELB_ROLE = 'kubernetes.io/role/internal-elb';

/**
 * Gives every Node an EC2 instance when it has none (kind's and kwok's nodes have none): launched in a
 * private subnet of the Node's zone (or spread over the zones by name), recorded on the Node as an annotation
 * (providerID is immutable once set), with the zone and instance-type labels. A deleted Node's instance is
 * terminated; instances of ours whose Node is gone are found and terminated on every resync.
 */
export class NodeController {
  private readonly options: NodeControllerOptions;
  private readonly instances: InstanceCloud;
  private readonly network: NetworkCloud;
  readonly queue: WorkQueue;
  private resyncTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: NodeControllerOptions) {
    this.options = options;
    this.instances = new InstanceCloud(options.aws.ec2, options.clusterName);
    this.network = new NetworkCloud(options.aws.ec2, options.clusterName, options.vpcId);
    this.queue = new WorkQueue((name) => this.reconcile(name), { name: 'node', concurrency: 2 }, options.queueObserver);
  }

  async start(): Promise<void> {
    const { nodes } = this.options.informers;
    await nodes.synced;
    this.unsubscribe = nodes.onChange((kind, node, old) => {
      const name = node.metadata?.name ?? '';
      if (kind === 'update' && old && old.metadata?.annotations?.[INSTANCE_ID_ANNOTATION] === node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION] && !node.metadata?.deletionTimestamp) return;
      this.queue.add(name);
    });
    this.queue.start();
    await this.resync();
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncPeriodMs);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.unsubscribe?.();
    await this.queue.stop();
  }

  async resync(): Promise<void> {
    const { nodes } = this.options.informers;
    for (const node of nodes.list()) this.queue.add(node.metadata?.name ?? '');
    try {
      const orphans = (await this.instances.all()).filter((instance) => instance.nodeName && !nodes.get(instance.nodeName));
      for (const name of new Set(orphans.map((o) => o.nodeName!))) this.queue.add(name);
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not list our instances for garbage collection');
    }
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const node = this.options.informers.nodes.get(name);
    const log = this.options.log.child({ node: name });
    if (!node || node.metadata?.deletionTimestamp) {
      const launched = await this.instances.forNode(name);
      if (launched.length > 0) {
        await this.instances.terminate(launched.map((i) => i.id));
        log.info({ instances: launched.map((i) => i.id) }, 'terminated the instances of a deleted node');
      }
      return;
    }
    if (parseProviderId(node.spec?.providerID)) return; // a real AWS node: its instance is its own

    const recorded = node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION];
    const launched = await this.instances.forNode(name);
    let instance = launched.find((i) => i.id === recorded) ?? launched[0];
    if (!instance) {
      const subnet = await this.subnetFor(node);
      const instanceType = node.metadata?.labels?.[INSTANCE_TYPE_LABEL] ?? this.options.instanceType;
      instance = await this.instances.launch(name, subnet.id, instanceType, this.options.imageId, this.options.securityGroupIds);
      this.options.events.event(node, 'Normal', 'InstanceLaunched', `launched EC2 instance ${instance.id} (${instanceType}) in ${subnet.id} (${subnet.zone})`);
      log.info({ instance: instance.id, subnet: subnet.id }, 'launched an instance for the node');
    }
    // Two instances for one Node (a crash between RunInstances and the annotation): keep one.
    const duplicates = launched.filter((i) => i.id !== instance.id).map((i) => i.id);
    if (duplicates.length > 0) await this.instances.terminate(duplicates);

    const labels = node.metadata?.labels ?? {};
    const patch = {
      annotations: recorded === instance.id ? {} : { [INSTANCE_ID_ANNOTATION]: instance.id },
      labels: {
        ...(labels[ZONE_LABEL] ? {} : { [ZONE_LABEL]: instance.zone }),
        ...(labels[INSTANCE_TYPE_LABEL] ? {} : { [INSTANCE_TYPE_LABEL]: instance.instanceType }),
      },
    };
    if (Object.keys(patch.annotations).length + Object.keys(patch.labels).length > 0) {
      try {
        await mergePatchMetadata(this.options.kubeconfig, { kind: 'Node', name }, patch);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        return; // deleted meanwhile: its delete event terminates the instance
      }
    }
    return;
  }

  private async subnetFor(node: V1Node) {
    const privateSubnets = (await this.network.subnets()).filter((s) => s.tags[INTERNAL_ELB_ROLE] !== undefined).sort((a, b) => a.zone.localeCompare(b.zone) || a.id.localeCompare(b.id));
    if (privateSubnets.length === 0) throw new Error(`no private subnet (tagged ${INTERNAL_ELB_ROLE}) in the cluster's VPC to launch node instances in`);
    const zone = node.metadata?.labels?.[ZONE_LABEL];
    const inZone = zone ? privateSubnets.filter((s) => s.zone === zone) : [];
    if (inZone.length > 0) return inZone[0]!;
    // No zone asked for: spread, into the zone with the fewest of our instances.
    const perZone = new Map<string, number>();
    for (const instance of await this.instances.all()) perZone.set(instance.zone, (perZone.get(instance.zone) ?? 0) + 1);
    return [...privateSubnets].sort((a, b) => (perZone.get(a.zone) ?? 0) - (perZone.get(b.zone) ?? 0))[0]!;
  }
}
