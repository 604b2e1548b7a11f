import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ActualSecurityGroups, SecurityGroupAction } from '../../core/security-group-plan.ts';
import { applySecurityGroupActions } from './apply.ts';
import type { SecurityGroupParts } from './parts.ts';
import { SecurityGroupPass } from './prefetch.ts';
import { backendGroupId, readSecurityGroups, type SecurityGroupReads } from './read.ts';

export type { SecurityGroupReads } from './read.ts';

/**
 * The NLB security-group adapter (EC2): one reader (read.ts) and one applier (apply.ts) over what they share
 * (parts.ts). Every call goes through the counted client (clients.ts).
 */
export class SecurityGroupCloud {
  private readonly client: EC2Client;
  private readonly clusterName: string;
  private readonly known: SecurityGroupParts['known'] = { nodeGroups: new Map() };
  private readonly pass = new SecurityGroupPass();

  constructor(client: EC2Client, clusterName: string) {
    this.client = client;
    this.clusterName = clusterName;
  }

  private parts(vpcId: string): SecurityGroupParts {
    return { client: this.client, clusterName: this.clusterName, vpcId, known: this.known };
  }

  /** Reads the groups of a resync pass's stacks at once; each stack's next observe uses them (prefetch.ts). */
  prefetch(vpcId: string, stackIds: string[]): Promise<void> {
    return this.pass.read(this.parts(vpcId), stackIds);
  }

  observe(vpcId: string, read: SecurityGroupReads): Promise<ActualSecurityGroups> {
    return readSecurityGroups(this.parts(vpcId), read, this.pass);
  }

  /** The cluster's backend group, if it exists (for `describe`). */
  backendGroupId(vpcId: string): Promise<string | undefined> {
    return backendGroupId(this.parts(vpcId));
  }

  apply(vpcId: string, actions: SecurityGroupAction[], created: Map<string, string>, onAction?: (action: SecurityGroupAction) => void): Promise<void> {
    this.pass.dropForWrite();
    return applySecurityGroupActions(this.parts(vpcId), actions, created, onAction).finally(() => this.pass.dropForWrite());
  }
}
