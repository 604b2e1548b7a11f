import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyCapacityReservationCommand,
  ModifyListenerAttributesCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveListenerCertificatesCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancerAction as Action, Ref } from '../../core/plan.ts';
import type { GroupRef } from '../../core/security-group-plan.ts';
import type { ListenerSettings } from '../../core/tls-plan.ts';
import type { ListenerTls } from '../../core/tls.ts';
import { healthCheckParameters } from './health-check.ts';
import type { OwnedStack } from './ownership.ts';
import type { Elbv2Parts } from './parts.ts';
import { chunks, ignoring, keyValueList } from './sdk.ts';

/** Targets per RegisterTargets / DeregisterTargets call. */
const TARGET_CHUNK = 200;

/** One apply of a plan to one stack: what each action's function needs. */
interface ApplyRun extends Elbv2Parts {
  owned: OwnedStack;
  vpcId: string;
  /** ARNs (and security group IDs) of resources created earlier in this plan, by the plan's key. */
  created: Map<string, string>;
}

type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;
type Applier<K extends Action['kind']> = (action: ActionOf<K>, run: ApplyRun) => Promise<void>;

/**
 * Applies the plan's actions to one stack in the plan's order (core/plan.ts decides it); resources created
 * earlier in the list are referenced by key. Every write keeps the index, the registrations and the known
 * attributes up to date, and drops what a bulk read saw of the stack.
 */
export async function applyActions(
  parts: Elbv2Parts,
  stackId: string,
  vpcId: string,
  actions: Action[],
  onAction?: (action: Action) => void,
  created = new Map<string, string>(),
): Promise<void> {
  const owned = parts.index.stack(stackId);
  parts.bulkReads.dropForWrite(stackId, owned);
  const run: ApplyRun = { ...parts, owned, vpcId, created };
  for (const action of actions) {
    onAction?.(action);
    // The table has one applier per kind; TypeScript cannot tie the action's kind to its entry's parameter.
    await (APPLIERS[action.kind] as Applier<typeof action.kind>)(action, run);
  }
}

function arnOf(ref: Ref | GroupRef, run: ApplyRun): string {
  if ('arn' in ref) return ref.arn;
  if ('id' in ref) return ref.id;
  const arn = run.created.get(ref.key);
  if (!arn) throw new Error(`plan refers to ${ref.key} before creating it`);
  return arn;
}

const forwardTo = (targetGroup: Ref, run: ApplyRun) => [{ Type: 'forward' as const, TargetGroupArn: arnOf(targetGroup, run) }];

const createLoadBalancer: Applier<'CreateLoadBalancer'> = async ({ key, spec, securityGroups }, run) => {
  const groups = securityGroups ? { SecurityGroups: securityGroups.map((g) => arnOf(g, run)) } : {};
  const result = await run.client.send(
    new CreateLoadBalancerCommand({
      Name: spec.name,
      Type: 'network',
      Scheme: spec.scheme,
      // Fixed addresses go in SubnetMappings (one per subnet); without them, plain Subnets as always.
      ...(spec.subnetMappings
        ? {
            SubnetMappings: spec.subnetMappings.map((m) => ({
              SubnetId: m.subnetId,
              ...(m.allocationId ? { AllocationId: m.allocationId } : {}),
              ...(m.privateIPv4Address ? { PrivateIPv4Address: m.privateIPv4Address } : {}),
              ...(m.ipv6Address ? { IPv6Address: m.ipv6Address } : {}),
              ...(m.sourceNatIpv6Prefix ? { SourceNatIpv6Prefix: m.sourceNatIpv6Prefix } : {}),
            })),
          }
        : { Subnets: spec.subnetIds }),
      IpAddressType: spec.ipAddressType ?? 'ipv4',
      // Only when the Service names it (ELBv2's default is off); never changed later: no SetSubnets (ADR 0016).
      ...(spec.enablePrefixForIpv6SourceNat ? { EnablePrefixForIpv6SourceNat: spec.enablePrefixForIpv6SourceNat } : {}),
      ...groups,
      Tags: keyValueList(spec.tags),
    }),
  );
  const created = result.LoadBalancers![0]!;
  const arn = created.LoadBalancerArn!;
  run.owned.loadBalancers.add(arn);
  run.created.set(key, arn);
  // CreateLoadBalancer cannot take the PrivateLink setting: SetSecurityGroups right after, when it differs (the LBC's Create).
  const enforce = spec.securityGroupsInboundRulesOnPrivateLink;
  if (enforce && groups.SecurityGroups?.length && created.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic !== enforce) {
    await setSecurityGroups({ kind: 'SetSecurityGroups', arn, securityGroups: securityGroups!, enforcePrivateLink: enforce }, run);
  }
};

const setSecurityGroups: Applier<'SetSecurityGroups'> = async ({ arn, securityGroups, enforcePrivateLink }, run) => {
  const enforce = enforcePrivateLink ? { EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: enforcePrivateLink } : {};
  await run.client.send(new SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups: securityGroups.map((g) => arnOf(g, run)), ...enforce }));
};

const setIpAddressType: Applier<'SetIpAddressType'> = async ({ arn, ipAddressType }, run) => {
  await run.client.send(new SetIpAddressTypeCommand({ LoadBalancerArn: arn, IpAddressType: ipAddressType }));
};

const modifyCapacityReservation: Applier<'ModifyCapacityReservation'> = async ({ loadBalancer, capacityUnits }, run) => {
  // 0 resets the reservation (the LBC's documented way, AWS's ResetCapacityReservation does the same).
  const reservation = capacityUnits === 0 ? { ResetCapacityReservation: true } : { MinimumLoadBalancerCapacity: { CapacityUnits: capacityUnits } };
  await run.client.send(new ModifyCapacityReservationCommand({ LoadBalancerArn: arnOf(loadBalancer, run), ...reservation }));
};

const modifyLoadBalancerAttributes: Applier<'ModifyLoadBalancerAttributes'> = async ({ loadBalancer, attributes }, run) => {
  await run.client.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arnOf(loadBalancer, run), Attributes: keyValueList(attributes) }));
};

const deleteLoadBalancer: Applier<'DeleteLoadBalancer'> = async ({ arn }, run) => {
  await ignoring(['LoadBalancerNotFoundException'], () => run.client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })));
  run.owned.loadBalancers.delete(arn);
};

const createTargetGroup: Applier<'CreateTargetGroup'> = async ({ key, spec }, run) => {
  const result = await run.client.send(
    new CreateTargetGroupCommand({
      Name: spec.name,
      Protocol: spec.protocol,
      Port: spec.port,
      VpcId: run.vpcId,
      TargetType: spec.targetType,
      ...(spec.ipAddressType ? { IpAddressType: spec.ipAddressType } : {}),
      ...healthCheckParameters(spec.healthCheck),
      Tags: keyValueList(spec.tags),
    }),
  );
  const arn = result.TargetGroups![0]!.TargetGroupArn!;
  run.owned.targetGroups.set(arn, spec.resourceId);
  run.targetGroupAttributes.created(arn);
  run.created.set(key, arn);
};

const modifyTargetGroup: Applier<'ModifyTargetGroup'> = async ({ arn, healthCheck }, run) => {
  await run.client.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...healthCheckParameters(healthCheck) }));
};

const modifyTargetGroupAttributes: Applier<'ModifyTargetGroupAttributes'> = async ({ targetGroup, attributes }, run) => {
  const arn = arnOf(targetGroup, run);
  await run.client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: keyValueList(attributes) }));
  run.targetGroupAttributes.modified(arn, attributes);
};

const registerTargets: Applier<'RegisterTargets'> = async ({ targetGroup, targets }, run) => {
  const arn = arnOf(targetGroup, run);
  for (const batch of chunks(targets, TARGET_CHUNK)) {
    const described = batch.map((t) => ({ Id: t.id, Port: t.port, ...(t.availabilityZone ? { AvailabilityZone: t.availabilityZone } : {}) }));
    await run.client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: described }));
  }
  run.registrations.registered(arn, targets.map((t) => t.id));
};

const deregisterTargets: Applier<'DeregisterTargets'> = async ({ arn, targets }, run) => {
  for (const batch of chunks(targets, TARGET_CHUNK)) {
    await ignoring(['InvalidTargetException', 'TargetGroupNotFoundException'], () =>
      run.client.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: batch.map((t) => ({ Id: t.id, Port: t.port })) })),
    );
  }
  run.registrations.deregistered(arn, targets.map((t) => t.id));
};

/** A TLS listener's parameters: the default certificate (the first), the policy and ALPN. */
const tlsParameters = (tls: ListenerTls | undefined, clearAlpn?: true) => ({
  ...(tls ? { Certificates: [{ CertificateArn: tls.certificates[0] }], SslPolicy: tls.sslPolicy } : {}),
  ...(tls?.alpnPolicy ? { AlpnPolicy: [tls.alpnPolicy] } : clearAlpn ? { AlpnPolicy: ['None'] } : {}),
});

const createListener: Applier<'CreateListener'> = async (action, run) => {
  const created = await run.client.send(
    new CreateListenerCommand({
      LoadBalancerArn: arnOf(action.loadBalancer, run),
      Port: action.port,
      Protocol: action.protocol,
      DefaultActions: forwardTo(action.targetGroup, run),
      ...tlsParameters(action.tls),
      ...(action.tags ? { Tags: keyValueList(action.tags) } : {}),
    }),
  );
  // As the LBC: every certificate, the default one too, is also listed (so ELBv2 can pick by SNI among all).
  const arn = created.Listeners?.[0]?.ListenerArn;
  if (action.tls && arn) await addListenerCertificates({ kind: 'AddListenerCertificates', arn, port: action.port, certificates: [...new Set(action.tls.certificates)] }, run);
  if (action.attributes && arn) await modifyListenerAttributes({ kind: 'ModifyListenerAttributes', arn, port: action.port, attributes: action.attributes }, run);
};

const modifyListenerAttributes: Applier<'ModifyListenerAttributes'> = async ({ arn, attributes }, run) => {
  await run.client.send(new ModifyListenerAttributesCommand({ ListenerArn: arn, Attributes: keyValueList(attributes) }));
};

const addListenerCertificates: Applier<'AddListenerCertificates'> = async ({ arn, certificates }, run) => {
  await run.client.send(new AddListenerCertificatesCommand({ ListenerArn: arn, Certificates: certificates.map((CertificateArn) => ({ CertificateArn })) }));
};

const removeListenerCertificates: Applier<'RemoveListenerCertificates'> = async ({ arn, certificates }, run) => {
  await run.client.send(new RemoveListenerCertificatesCommand({ ListenerArn: arn, Certificates: certificates.map((CertificateArn) => ({ CertificateArn })) }));
};

const addListenerTags: Applier<'AddListenerTags'> = async ({ arn, tags }, run) => {
  await run.client.send(new AddTagsCommand({ ResourceArns: [arn], Tags: keyValueList(tags) }));
};

const settingsParameters = (settings: ListenerSettings | undefined) => (settings ? { Protocol: settings.protocol, ...tlsParameters(settings.tls, settings.clearAlpn) } : {});

const modifyListener: Applier<'ModifyListener'> = async ({ arn, targetGroup, settings }, run) => {
  const forward = targetGroup ? { DefaultActions: forwardTo(targetGroup, run) } : {};
  await run.client.send(new ModifyListenerCommand({ ListenerArn: arn, ...forward, ...settingsParameters(settings) }));
};

const deleteListener: Applier<'DeleteListener'> = async ({ arn }, run) => {
  await ignoring(['ListenerNotFoundException'], () => run.client.send(new DeleteListenerCommand({ ListenerArn: arn })));
};

const deleteTargetGroup: Applier<'DeleteTargetGroup'> = async ({ arn }, run) => {
  await ignoring(['TargetGroupNotFoundException'], () => run.client.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })));
  run.owned.targetGroups.delete(arn);
  run.registrations.forget(arn);
  run.targetGroupAttributes.forget(arn);
};

/** One applier per action kind: a kind added to the plan does not compile until it has one. */
const APPLIERS: { [K in Action['kind']]: Applier<K> } = {
  CreateLoadBalancer: createLoadBalancer,
  SetSecurityGroups: setSecurityGroups,
  SetIpAddressType: setIpAddressType,
  ModifyCapacityReservation: modifyCapacityReservation,
  ModifyLoadBalancerAttributes: modifyLoadBalancerAttributes,
  DeleteLoadBalancer: deleteLoadBalancer,
  CreateTargetGroup: createTargetGroup,
  ModifyTargetGroup: modifyTargetGroup,
  ModifyTargetGroupAttributes: modifyTargetGroupAttributes,
  RegisterTargets: registerTargets,
  DeregisterTargets: deregisterTargets,
  CreateListener: createListener,
  AddListenerTags: addListenerTags,
  ModifyListenerAttributes: modifyListenerAttributes,
  ModifyListener: modifyListener,
  AddListenerCertificates: addListenerCertificates,
  RemoveListenerCertificates: removeListenerCertificates,
  DeleteListener: deleteListener,
  DeleteTargetGroup: deleteTargetGroup,
};
