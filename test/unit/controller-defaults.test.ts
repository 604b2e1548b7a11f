import { describe, expect, it } from 'vitest';
import { controllerDefaults, DefaultsError, LBC_DEFAULTS, parseStringSlice, parseStringToString } from '../../src/core/controller-defaults.ts';
import { DEFAULT_FEATURE_GATES, FeatureGateError, parseFeatureGates } from '../../src/core/feature-gates.ts';

// The LBC's flags (pkg/config/controller_config.go) as pflag parses them and ControllerConfig.Validate checks them.
describe('controller defaults (--default-tags, --external-managed-tags, --default-target-type, --default-load-balancer-scheme)', () => {
  it('no flags: the LBC defaults (instance, internal, no tags)', () => {
    expect(controllerDefaults({})).toEqual(LBC_DEFAULTS);
    expect(LBC_DEFAULTS).toEqual({
      tags: {},
      externalManagedTags: [],
      targetType: 'instance',
      scheme: 'internal',
      featureGates: { EnableDefaultTagsLowPriority: false, EnableIPTargetType: true },
      enableManageBackendSGRules: false,
      disableRestrictedSGRules: false,
    });
  });

  it.each<[string, string, Record<string, string>]>([
    ['pflag StringToString: two entries', 'team=shop,env=dev', { team: 'shop', env: 'dev' }],
    ['a value may hold =', 'k=a=b', { k: 'a=b' }],
    ['a quoted entry may hold a comma', '"k=a,b",x=y', { k: 'a,b', x: 'y' }],
    ['empty', '', {}],
  ])('%s', (_name, raw, want) => {
    expect(parseStringToString('--default-tags', raw)).toEqual(want);
  });

  it('an entry without = names the flag', () => {
    expect(() => parseStringToString('--default-tags', 'team')).toThrow(/--default-tags: "team" must be formatted as key=value/);
  });

  it('pflag StringSlice', () => {
    expect(parseStringSlice('cost-center,owner')).toEqual(['cost-center', 'owner']);
    expect(parseStringSlice('')).toEqual([]);
  });

  it.each<[string, Parameters<typeof controllerDefaults>[0], RegExp]>([
    ['validateDefaultTagsCollisionWithTrackingTags', { defaultTags: 'elbv2.k8s.aws/cluster=x' }, /tag key elbv2.k8s.aws\/cluster cannot be specified in --default-tags flag/],
    ['validateExternalManagedTagsCollisionWithTrackingTags', { externalManagedTags: 'service.k8s.aws/stack' }, /cannot be specified in --external-managed-tags flag/],
    ['validateExternalManagedTagsCollisionWithDefaultTags', { defaultTags: 'owner=a', externalManagedTags: 'owner' }, /tag key owner cannot be specified in both --default-tags and --external-managed-tags flag/],
    ['validateDefaultTargetType', { defaultTargetType: 'IP' }, /--default-target-type: invalid value "IP"/],
    ['validateDefaultLoadBalancerScheme', { defaultScheme: 'public' }, /--default-load-balancer-scheme: invalid value "public"/],
  ])('controller_config.go %s', (_name, flags, message) => {
    expect(() => controllerDefaults(flags)).toThrow(DefaultsError);
    expect(() => controllerDefaults(flags)).toThrow(message);
  });

  it('all set', () => {
    const flags = { defaultTags: 'owner=platform', externalManagedTags: 'cost-center', defaultTargetType: 'ip', defaultScheme: 'internet-facing', enableManageBackendSGRules: 'true', disableRestrictedSGRules: 'true' };
    expect(controllerDefaults(flags)).toEqual({
      tags: { owner: 'platform' },
      externalManagedTags: ['cost-center'],
      targetType: 'ip',
      scheme: 'internet-facing',
      featureGates: DEFAULT_FEATURE_GATES,
      enableManageBackendSGRules: true,
      disableRestrictedSGRules: true,
    });
  });

  it('ip as the default target type with EnableIPTargetType=false: a startup error naming both', () => {
    expect(() => controllerDefaults({ defaultTargetType: 'ip', featureGates: 'EnableIPTargetType=false' })).toThrow(
      /--default-target-type: invalid value "ip": ip targets are off \(--feature-gates EnableIPTargetType=false\)/,
    );
  });
});

// pkg/config/feature_gates.go Set / SplitMapStringBool: k=v pairs, trimmed, values as strconv.ParseBool.
describe('--feature-gates (the LBC syntax; EnableDefaultTagsLowPriority and EnableIPTargetType known)', () => {
  it.each<[string, string, Partial<typeof DEFAULT_FEATURE_GATES>]>([
    ['empty: the defaults', '', {}],
    ['one gate on', 'EnableDefaultTagsLowPriority=true', { EnableDefaultTagsLowPriority: true }],
    ['both, spaces trimmed, ParseBool spellings', ' EnableDefaultTagsLowPriority = T , EnableIPTargetType=FALSE', { EnableDefaultTagsLowPriority: true, EnableIPTargetType: false }],
    ['empty entries skipped, the last setting wins', 'EnableIPTargetType=false,,EnableIPTargetType=1', {}],
  ])('%s', (_name, raw, want) => {
    expect(parseFeatureGates(raw)).toEqual({ ...DEFAULT_FEATURE_GATES, ...want });
  });

  it.each<[string, string, RegExp]>([
    ['no =', 'EnableDefaultTagsLowPriority', /--feature-gates: invalid value "EnableDefaultTagsLowPriority": must be Name=true or Name=false/],
    ['not a bool', 'EnableDefaultTagsLowPriority=yes', /--feature-gates: invalid value "EnableDefaultTagsLowPriority=yes": must be Name=true or Name=false/],
    ['unknown gate', 'NoSuchGate=true', /--feature-gates: invalid value "NoSuchGate=true": unknown feature \(known: EnableDefaultTagsLowPriority, EnableIPTargetType\)/],
    ['a gate of the LBC we do not have', 'NLBSecurityGroup=false', /invalid value "NLBSecurityGroup=false": a gate of the aws-load-balancer-controller this controller does not have/],
  ])('%s: an error naming flag and value', (_name, raw, message) => {
    expect(() => parseFeatureGates(raw)).toThrow(FeatureGateError);
    expect(() => parseFeatureGates(raw)).toThrow(message);
    expect(() => controllerDefaults({ featureGates: raw })).toThrow(DefaultsError);
  });
});
