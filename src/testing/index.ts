/**
 * Helpers for integration tests against cloud-provider-localstack: `import { ... } from
 * 'cloud-provider-localstack/testing'`. Our own integration suite uses the same ones.
 */
export { waitFor, type WaitOptions } from './wait.ts';
export { connect, type TestEnvironment } from './environment.ts';
export { createTestNamespace, createKwokNode, deleteNodes, isNodeReady, isPodReady, uniqueName } from './kube.ts';
export {
  describeLoadBalancer,
  findLoadBalancerByDnsName,
  healthyTargets,
  nodeTargets,
  podTargets,
  waitForLoadBalancer,
  type ObservedListener,
  type ObservedLoadBalancer,
  type ObservedTarget,
} from './loadbalancer.ts';
