/**
 * Helpers for integration tests against cloud-provider-localstack: `import { ... } from
 * 'cloud-provider-localstack/testing'`. Our own integration suite uses the same ones.
 */
export { waitFor, type WaitOptions } from './wait.ts';
export { connect, type TestEnvironment } from './environment.ts';
export {
  createTestNamespace,
  createKwokNode,
  createNetworkedNode,
  deleteNodes,
  isNodeReady,
  isPodReady,
  removeNamespaceThenNodes,
  uniqueName,
  waitForNetworkedNode,
  waitForNetworkedNodes,
  waitForReadyPods,
  type NetworkedNodeOptions,
} from './kube.ts';
export {
  AGNHOST_HTTP_READY,
  AGNHOST_IMAGE,
  agnhostDeployment,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  HTTP_SERVICE_PORT,
  loadBalancerServiceBody,
  readinessSwitch,
  type AgnhostOptions,
  type ReadinessSwitch,
} from './agnhost.ts';
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
export { sweepSecurityGroups } from './security-groups.ts';
export { vpcExec, nodeExec, forwardToVpc, httpGetInVpc, type ExecResult, type Forward, type VpcHttpResponse, type VpcOptions } from './vpc.ts';
export {
  expectEveryTargetServes,
  httpThroughLoadBalancer,
  keptConnection,
  measureAvailability,
  resolveInVpc,
  serviceLoadBalancer,
  udpThroughLoadBalancer,
  type Availability,
  type ServiceLoadBalancer,
  type ServiceRef,
  type ThroughLoadBalancerOptions,
} from './traffic.ts';
export { assertLoopback, installNetworkGuard } from './network-guard.ts';
export { createTestCertificate, httpsThroughLoadBalancer, importTestCertificate, type HttpsOptions, type TestCertificate } from './tls.ts';
