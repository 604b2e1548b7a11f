import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppsV1Api, CoreV1Api, CoordinationV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { createAwsClients, type AwsClients } from '../cloud/clients.ts';
import type { AwsEnvironment } from '../devenv/environment.ts';

/** What the local environment (`npm run up`) or your own setup provides: where the cluster and AWS are. */
export interface TestEnvironment {
  kubeconfig: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
  coordination: CoordinationV1Api;
  aws: AwsClients;
  /** The environment's state folder (kubeconfig, aws.json, the VPC's door). */
  stateDir: string;
  /** The seeded network, from aws.json. */
  network: {
    clusterName: string;
    vpcId: string;
    publicSubnets: { id: string; zone: string; cidr: string }[];
    privateSubnets: { id: string; zone: string; cidr: string }[];
    nodeSecurityGroupId: string;
  };
  close(): void;
}

/**
 * Connects to an environment described by a state folder holding `kubeconfig` and `aws.json` (by default
 * the project's `.devenv/`, or `$CPL_STATE_DIR`).
 */
export function connect(stateDir = process.env.CPL_STATE_DIR ?? join(process.cwd(), '.devenv')): TestEnvironment {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(join(stateDir, 'kubeconfig'));
  const awsJson = JSON.parse(readFileSync(join(stateDir, 'aws.json'), 'utf8')) as AwsEnvironment;
  const aws = createAwsClients({
    region: awsJson.region,
    endpoint: awsJson.endpoint,
    credentials: { accessKeyId: awsJson.accessKeyId, secretAccessKey: awsJson.secretAccessKey },
  });
  return {
    kubeconfig,
    core: kubeconfig.makeApiClient(CoreV1Api),
    apps: kubeconfig.makeApiClient(AppsV1Api),
    discovery: kubeconfig.makeApiClient(DiscoveryV1Api),
    coordination: kubeconfig.makeApiClient(CoordinationV1Api),
    aws,
    stateDir: resolve(stateDir),
    network: {
      clusterName: awsJson.clusterName,
      vpcId: awsJson.vpcId,
      publicSubnets: awsJson.publicSubnets,
      privateSubnets: awsJson.privateSubnets,
      nodeSecurityGroupId: awsJson.nodeSecurityGroupId,
    },
    close: () => aws.destroy(),
  };
}
