import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKEND_KEY, type CidrRange, type GroupRef, type SecurityGroupAction as Action } from '../../core/security-group-plan.ts';
import type { PortRange } from '../../core/node-rules.ts';
import { cidrFamily, NODE_RULE_DESCRIPTION, type IngressRule, type SecurityGroupSpec } from '../../core/security-groups.ts';
import { errorName, ignoring } from '../elbv2/sdk.ts';
import type { SecurityGroupParts } from './parts.ts';
import { backendGroupId } from './read.ts';

/**
 * A DependencyViolation on delete (a network interface of the just-deleted NLB still holds the group) is
 * retried this often this far apart, as the LBC does (2 s, up to 10 s); then the reconcile fails and is requeued.
 */
const DELETE_ATTEMPTS = 5;
const DELETE_RETRY_MS = 2_000;

interface ApplyRun extends SecurityGroupParts {
  /** IDs of groups (and ARNs) created earlier in this plan, by the plan's key; shared with the ELBv2 applier. */
  created: Map<string, string>;
}

type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;
type Applier<K extends Action['kind']> = (action: ActionOf<K>, run: ApplyRun) => Promise<void>;

/** Applies security-group actions in the plan's order. */
export async function applySecurityGroupActions(parts: SecurityGroupParts, actions: Action[], created: Map<string, string>, onAction?: (action: Action) => void): Promise<void> {
  const run: ApplyRun = { ...parts, created };
  for (const action of actions) {
    onAction?.(action);
    await (APPLIERS[action.kind] as Applier<typeof action.kind>)(action, run);
  }
}

function idOf(ref: GroupRef, run: ApplyRun): string {
  if ('id' in ref) return ref.id;
  const id = run.created.get(ref.key);
  if (!id) throw new Error(`plan refers to ${ref.key} before creating it`);
  return id;
}

const ingressSourceOf = (r: IngressRule): Partial<IpPermission> => {
  if ('prefixListId' in r) return { PrefixListIds: [{ PrefixListId: r.prefixListId }] };
  return cidrFamily(r.cidr) === 6 ? { Ipv6Ranges: [{ CidrIpv6: r.cidr }] } : { IpRanges: [{ CidrIp: r.cidr }] };
};

const ingressPermission = (r: IngressRule): IpPermission => ({ IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, ...ingressSourceOf(r) });

const nodePermission = (source: string) => (r: PortRange): IpPermission => ({
  IpProtocol: r.protocol,
  FromPort: r.fromPort,
  ToPort: r.toPort,
  UserIdGroupPairs: [{ GroupId: source, Description: NODE_RULE_DESCRIPTION }],
});

/** A node rule from a CIDR carries our description on its range, so only ours are ever revoked. */
const nodeCidrPermission = (r: CidrRange): IpPermission => ({
  IpProtocol: r.protocol,
  FromPort: r.fromPort,
  ToPort: r.toPort,
  ...(cidrFamily(r.cidr) === 6
    ? { Ipv6Ranges: [{ CidrIpv6: r.cidr, Description: NODE_RULE_DESCRIPTION }] }
    : { IpRanges: [{ CidrIp: r.cidr, Description: NODE_RULE_DESCRIPTION }] }),
});

async function create(spec: SecurityGroupSpec, run: ApplyRun): Promise<string> {
  const tags = Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value }));
  const result = await run.client.send(
    new CreateSecurityGroupCommand({ GroupName: spec.name, Description: spec.description, VpcId: run.vpcId, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags }] }),
  );
  return result.GroupId!;
}

/**
 * The cluster's one backend group, whichever reconcile gets there first: reconciles of new Services run
 * concurrently and each planned its create (the LBC holds a mutex here). A group of that name made meanwhile
 * (by another process) is found by its tags.
 */
function ensureBackend(spec: SecurityGroupSpec, run: ApplyRun): Promise<string> {
  if (run.known.backendId) return Promise.resolve(run.known.backendId);
  run.known.backendCreate ??= (async () => {
    try {
      run.known.backendId = await create(spec, run);
    } catch (error) {
      if (errorName(error) !== 'InvalidGroup.Duplicate' || !(await backendGroupId(run))) throw error;
    } finally {
      run.known.backendCreate = undefined;
    }
    return run.known.backendId!;
  })();
  return run.known.backendCreate;
}

const createSecurityGroup: Applier<'CreateSecurityGroup'> = async ({ key, spec }, run) => {
  run.created.set(key, key === BACKEND_KEY ? await ensureBackend(spec, run) : await create(spec, run));
};

const authorizeIngress: Applier<'AuthorizeIngress'> = async ({ group, rules }, run) => {
  await ignoring(['InvalidPermission.Duplicate'], () => run.client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: idOf(group, run), IpPermissions: rules.map(ingressPermission) })));
};

const revokeIngress: Applier<'RevokeIngress'> = async ({ groupId, rules }, run) => {
  await ignoring(['InvalidPermission.NotFound', 'InvalidGroup.NotFound'], () => run.client.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(ingressPermission) })));
};

const authorizeNodeRules: Applier<'AuthorizeNodeRules'> = async ({ groupId, source, rules }, run) => {
  const permissions = rules.map(nodePermission(idOf(source, run)));
  await ignoring(['InvalidPermission.Duplicate'], () => run.client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions })));
};

const revokeNodeRules: Applier<'RevokeNodeRules'> = async ({ groupId, sourceId, rules }, run) => {
  const permissions = rules.map(nodePermission(sourceId));
  await ignoring(['InvalidPermission.NotFound', 'InvalidGroup.NotFound'], () => run.client.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions })));
};

const authorizeNodeCidrRules: Applier<'AuthorizeNodeCidrRules'> = async ({ groupId, rules }, run) => {
  await ignoring(['InvalidPermission.Duplicate'], () => run.client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(nodeCidrPermission) })));
};

const revokeNodeCidrRules: Applier<'RevokeNodeCidrRules'> = async ({ groupId, rules }, run) => {
  await ignoring(['InvalidPermission.NotFound', 'InvalidGroup.NotFound'], () => run.client.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(nodeCidrPermission) })));
};

const deleteSecurityGroup: Applier<'DeleteSecurityGroup'> = async ({ groupId }, run) => {
  for (let attempt = 1; ; attempt++) {
    try {
      await ignoring(['InvalidGroup.NotFound'], () => run.client.send(new DeleteSecurityGroupCommand({ GroupId: groupId })));
      break;
    } catch (error) {
      if (errorName(error) !== 'DependencyViolation' || attempt >= DELETE_ATTEMPTS) throw error;
      await sleep(DELETE_RETRY_MS);
    }
  }
  if (run.known.backendId === groupId) run.known.backendId = undefined;
};

/** One applier per action kind: a kind added to the plan does not compile until it has one. */
const APPLIERS: { [K in Action['kind']]: Applier<K> } = {
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeIngress: authorizeIngress,
  RevokeIngress: revokeIngress,
  AuthorizeNodeRules: authorizeNodeRules,
  RevokeNodeRules: revokeNodeRules,
  AuthorizeNodeCidrRules: authorizeNodeCidrRules,
  RevokeNodeCidrRules: revokeNodeCidrRules,
  DeleteSecurityGroup: deleteSecurityGroup,
};
