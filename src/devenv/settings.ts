/**
 * The local environment's fixed settings. Ports sit away from the usual defaults (2379, 6443, 10257, 10259) so
 * the environment runs beside a real cluster or kind on the same machine; every one can be moved by environment
 * variable. The service CIDR (172.20.0.0/16, as on EKS) and kwok's fallback pod CIDR stay out of the VPC's 10.0.0.0/16.
 */
const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  }
  return value;
};

export const settings = {
  clusterName: process.env.CPL_CLUSTER_NAME ?? 'cpl-local',
  region: process.env.AWS_REGION_LOCAL ?? 'us-east-1',
  host: '127.0.0.1',
  ports: {
    emulator: port('CPL_EMULATOR_PORT', 4566),
    etcdClient: port('CPL_ETCD_PORT', 12379),
    etcdPeer: port('CPL_ETCD_PEER_PORT', 12380),
    apiserver: port('CPL_APISERVER_PORT', 16443),
    controllerManager: port('CPL_KCM_PORT', 20257),
    scheduler: port('CPL_SCHEDULER_PORT', 20259),
    kwok: port('CPL_KWOK_PORT', 20247),
    kwokVpc: port('CPL_KWOK_VPC_PORT', 20248),
    controllerMetrics: port('CPL_CONTROLLER_METRICS_PORT', 18080),
    controllerHealth: port('CPL_CONTROLLER_HEALTH_PORT', 18081),
    /** The local VPC's supervisor: /healthz (ADR 0011). */
    vpc: port('CPL_VPC_PORT', 20249),
  },
  serviceCidr: '172.20.0.0/16',
  kubernetesServiceIp: '172.20.0.1',
  kwokPodCidr: '100.64.0.0/16',
  vpcCidr: '10.0.0.0/16',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

export const emulatorEndpoint = `http://${settings.host}:${settings.ports.emulator}`;
export const apiserverUrl = `https://${settings.host}:${settings.ports.apiserver}`;
