import type { V1Service } from '@kubernetes/client-node';
import { buildModel, type ModelInput, type SubnetInfo } from '../../../src/core/model.ts';

/** The input the ported LBC tables build models from: one internal-elb subnet, one node with an instance. */
export const subnets: SubnetInfo[] = [
  { id: 'subnet-a', zone: 'us-east-1a', vpcId: 'vpc-1', cidrBlock: '127.0.0.0/24', tags: { 'kubernetes.io/role/internal-elb': '1' } },
];

export const input = (svc: V1Service, extra: Partial<ModelInput> = {}): ModelInput => ({
  clusterName: 'c1',
  vpcId: 'vpc-1',
  service: svc,
  nodes: [{ name: 'n1', instanceId: 'i-1', labels: {}, deleting: false, toBeDeleted: false }],
  endpointSlices: [],
  podVpcIp: () => undefined,
  subnets,
  ...extra,
});

export const model = (svc: V1Service, extra: Partial<ModelInput> = {}) => buildModel(input(svc, extra)).stack;
