import { Manager } from '../controllers/manager.ts';
import { managerConfig, type RunFlags } from './run-command.ts';

export type ConnectionFlags = Pick<
  RunFlags,
  'kubeconfig' | 'clusterName' | 'region' | 'awsEndpoint' | 'vpcId' | 'local' | 'defaultTags' | 'externalManagedTags' | 'defaultTargetType' | 'defaultLoadBalancerScheme' | 'featureGates' | 'enableManageBackendSecurityGroupRules' | 'disableRestrictedSgRules'
>;

/** A manager whose informers are synced but whose controllers do not run: for read-only commands. */
export async function inspector(flags: ConnectionFlags): Promise<Manager> {
  const config = managerConfig({
    ...flags,
    controllers: 'service',
    concurrency: '1',
    resyncPeriod: '1h',
    targetBatchPeriod: '0',
    nodeInstanceType: 'm5.large',
    nodeImageId: 'ami-12c6146b',
    logLevel: 'error',
    logFormat: 'text',
    warmEniTarget: '1',
    ipCooldownPeriod: '30s',
    leakedEniGracePeriod: '5m',
  });
  const manager = new Manager(config);
  await Promise.all(Object.values(manager.informers).map((informer) => informer.synced));
  return manager;
}

