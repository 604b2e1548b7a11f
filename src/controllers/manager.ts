import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createAwsClients, type AwsClients } from '../cloud/clients.ts';
import { createEventRecorder, type EventRecorder } from '../kube/events.ts';
import { startInformer, type Informer } from '../kube/informer.ts';
import { LoadBalancerCloud } from '../cloud/elbv2.ts';
import type { WorkQueueObserver } from '../kube/workqueue.ts';
import type { ControllerDefaults } from '../core/controller-defaults.ts';
import type { ControllerMetrics } from '../observability/metrics.ts';
import type { EniPoolStatus } from './ipam/crd.ts';
import { IpamController, type IpamSettings } from './ipam/controller.ts';
import { NodeController } from './node/controller.ts';
import { ServiceController } from './service/controller.ts';

export const CONTROLLERS = ['service', 'node', 'ipam'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface ManagerConfig {
  /** Path of a kubeconfig; in-cluster configuration when absent. */
  kubeconfig?: string;
  clusterName: string;
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  vpcId?: string;
  controllers: ControllerName[];
  /** Only Services (and EndpointSlices) in this namespace; all namespaces when absent. */
  watchNamespace?: string;
  /** Only Nodes matching this label selector, for every controller; all Nodes when absent. */
  nodeSelector?: string;
  concurrency: number;
  resyncPeriodMs: number;
  /** Target changes of a Service within this period cost one reconcile (the Service controller's default when absent). */
  targetBatchPeriodMs?: number;
  node: { instanceType: string; imageId: string; securityGroupIds: string[] };
  ipam: IpamSettings;
  log: Logger;
  /** The LBC's controller-wide defaults (--default-tags, ...); the LBC's own when absent. */
  defaults?: ControllerDefaults;
  /** Prometheus metrics; every controller's queue and reconciles and every AWS call are recorded there. */
  metrics?: ControllerMetrics;
}

export const COMPONENT = 'cloud-provider-localstack';

/**
 * The controller manager: one set of informers and one AWS call counter shared by every controller.
 */
export class Manager {
  readonly config: ManagerConfig;
  readonly kubeconfig: KubeConfig;
  readonly aws: AwsClients;
  readonly events: EventRecorder;
  readonly informers: {
    services: Informer<V1Service>;
    nodes: Informer<V1Node>;
    endpointSlices: Informer<V1EndpointSlice>;
    pods: Informer<V1Pod>;
  };
  readonly loadBalancers: LoadBalancerCloud;
  readonly service?: ServiceController;
  readonly node?: NodeController;
  readonly ipam?: IpamController;

  constructor(config: ManagerConfig) {
    this.config = config;
    this.kubeconfig = new KubeConfig();
    if (config.kubeconfig) this.kubeconfig.loadFromFile(config.kubeconfig);
    else this.kubeconfig.loadFromCluster();
    this.aws = createAwsClients({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
    });
    const core = this.kubeconfig.makeApiClient(CoreV1Api);
    const discovery = this.kubeconfig.makeApiClient(DiscoveryV1Api);
    const log = (msg: string, err?: unknown) => config.log.warn({ err }, msg);
    const ns = config.watchNamespace;
    const nodeSelector = config.nodeSelector;
    this.informers = {
      // --watch-namespace scopes Services and EndpointSlices (as the LBC's flag); --node-selector scopes the Nodes
      // every controller sees (instance targets, instances, ENI pools), so several managers can share a cluster.
      services: ns
        ? startInformer<V1Service>(this.kubeconfig, `/api/v1/namespaces/${ns}/services`, () => core.listNamespacedService({ namespace: ns }), { name: 'services', log })
        : startInformer<V1Service>(this.kubeconfig, '/api/v1/services', () => core.listServiceForAllNamespaces(), { name: 'services', log }),
      nodes: startInformer<V1Node>(this.kubeconfig, '/api/v1/nodes', () => core.listNode(nodeSelector ? { labelSelector: nodeSelector } : {}), {
        name: 'nodes',
        log,
        ...(nodeSelector ? { labelSelector: nodeSelector } : {}),
      }),
      endpointSlices: ns
        ? startInformer<V1EndpointSlice>(this.kubeconfig, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, () => discovery.listNamespacedEndpointSlice({ namespace: ns }), {
            name: 'endpointslices',
            log,
          })
        : startInformer<V1EndpointSlice>(this.kubeconfig, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(), {
            name: 'endpointslices',
            log,
          }),
      pods: startInformer<V1Pod>(this.kubeconfig, '/api/v1/pods', () => core.listPodForAllNamespaces(), { name: 'pods', log }),
    };
    this.events = createEventRecorder(this.kubeconfig, COMPONENT, log);
    const observe = (name: string, depth: () => number): { queueObserver?: WorkQueueObserver } => {
      const metrics = config.metrics;
      if (!metrics) return {};
      const base = metrics.queueObserver(name, depth);
      return {
        queueObserver: {
          ...base,
          onProcessed(key, waitMs, durationMs, error) {
            base.onProcessed?.(key, waitMs, durationMs, error);
            metrics.reconcile(name, durationMs, error !== undefined);
          },
        },
      };
    };
    if (config.metrics) config.metrics.observeAwsCalls(this.aws.calls);
    const common = { kubeconfig: this.kubeconfig, clusterName: config.clusterName, aws: this.aws, events: this.events, resyncPeriodMs: config.resyncPeriodMs };
    const vpc = config.vpcId ? { vpcId: config.vpcId } : {};
    this.loadBalancers = new LoadBalancerCloud(this.aws.elbv2, config.clusterName);
    if (config.controllers.includes('service')) {
      this.service = new ServiceController({
        ...common,
        ...vpc,
        loadBalancers: this.loadBalancers,
        ...observe('service', () => this.service?.queue.depth ?? 0),
        concurrency: config.concurrency,
        ...(config.defaults ? { defaults: config.defaults } : {}),
        ...(config.targetBatchPeriodMs !== undefined ? { targetBatchPeriodMs: config.targetBatchPeriodMs } : {}),
        log: config.log.child({ controller: 'service' }),
        informers: this.informers,
      });
    }
    if (config.controllers.includes('ipam')) {
      this.ipam = new IpamController({
        ...common,
        loadBalancers: this.loadBalancers,
        settings: config.ipam,
        scopedNodes: Boolean(config.nodeSelector),
        ...observe('ipam', () => this.ipam?.queue.depth ?? 0),
        ...(config.metrics ? { onStatus: poolGauges(config.metrics) } : {}),
        log: config.log.child({ controller: 'ipam' }),
        informers: { nodes: this.informers.nodes, pods: this.informers.pods },
      });
    }
    if (config.controllers.includes('node')) {
      this.node = new NodeController({
        ...common,
        ...vpc,
        ...config.node,
        ...observe('node', () => this.node?.queue.depth ?? 0),
        log: config.log.child({ controller: 'node' }),
        informers: { nodes: this.informers.nodes },
      });
    }
  }

  /** Resolves once every informer has synced and every controller has started. */
  async start(): Promise<void> {
    await Promise.all(Object.values(this.informers).map((i) => i.synced));
    await Promise.all([this.node?.start(), this.service?.start(), this.ipam?.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.service?.stop(), this.node?.stop(), this.ipam?.stop()]);
    for (const informer of Object.values(this.informers)) informer.stop();
    await this.events.flush();
    this.aws.destroy();
  }

  /** Resolves when every queue is empty and nothing is in flight (for tests and benchmarks). */
  async idle(): Promise<void> {
    await Promise.all([this.service?.queue.idle(), this.node?.queue.idle(), this.ipam?.queue.idle()]);
  }
}

/** The pool per node as gauges named after VPC CNI's (awscni_*), so existing dashboards read them. */
function poolGauges(metrics: ControllerMetrics): (node: string, status: EniPoolStatus | undefined) => void {
  const gauges = {
    enisAllocated: metrics.gauge('awscni_eni_allocated', 'ENIs attached to the node', ['node']),
    enisMax: metrics.gauge('awscni_eni_max', 'ENIs the node can have', ['node']),
    ipMax: metrics.gauge('awscni_ip_max', 'pod addresses the node can have', ['node']),
    total: metrics.gauge('awscni_total_ip_addresses', 'secondary addresses on the node', ['node']),
    assigned: metrics.gauge('awscni_assigned_ip_addresses', 'addresses given to pods', ['node']),
    warm: metrics.gauge('awscni_warm_ip_addresses', 'free addresses ready for pods', ['node']),
    cooling: metrics.gauge('awscni_cooldown_ip_addresses', 'free addresses in cooldown or still registered', ['node']),
    blocked: metrics.gauge('awscni_no_available_ip_addresses', '1 while pods on the node wait for an address', ['node']),
  };
  return (node, status) => {
    if (!status) {
      for (const gauge of Object.values(gauges)) gauge.remove({ node });
      return;
    }
    gauges.enisAllocated.set({ node }, status.enis.length);
    gauges.enisMax.set({ node }, status.maxEnis);
    gauges.ipMax.set({ node }, status.maxEnis * (status.ipv4PerEni - 1));
    gauges.total.set({ node }, status.total);
    gauges.assigned.set({ node }, status.assigned);
    gauges.warm.set({ node }, status.warm);
    gauges.cooling.set({ node }, status.cooling);
    gauges.blocked.set({ node }, status.blocked ? 1 : 0);
  };
}
