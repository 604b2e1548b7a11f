import { describe, expect, it } from 'vitest';
import { parseMatcher } from '../../src/dataplane/health/matcher.ts';
import { healthCheckSpec } from '../../src/dataplane/health/spec.ts';
import { afterCheck, registeredTracker, sameHealth, simulatedTracker, type TargetTracker } from '../../src/dataplane/health/state.ts';

// Check results as a string: '+' passed, '-' failed. Each expected entry is "state/reason" after that result.
const IHC = 'initial/Elb.InitialHealthChecking';
const OK = 'healthy/';
const BAD = 'unhealthy/Target.FailedHealthChecks';

function run(results: string, healthyThreshold: number, unhealthyThreshold: number, from: TargetTracker = registeredTracker()): string[] {
  const seen: string[] = [];
  let tracker = from;
  for (const result of results) {
    tracker = afterCheck(tracker, result === '+', { healthyThreshold, unhealthyThreshold });
    seen.push(`${tracker.health.state}/${tracker.health.reason ?? ''}`);
  }
  return seen;
}

describe('health state machine (AWS TargetHealth for NLB checks)', () => {
  it('starts as initial / Elb.RegistrationInProgress until the first result', () => {
    expect(registeredTracker().health).toEqual({ state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' });
  });

  const table: [string, string, number, number, string[]][] = [
    // name, results, healthy threshold, unhealthy threshold, states after each
    ['healthy after the healthy threshold', '+++', 3, 3, [IHC, IHC, OK]],
    ['AWS defaults: 5 successes', '+++++', 5, 2, [IHC, IHC, IHC, IHC, OK]],
    ['threshold 2 (the least AWS allows)', '++', 2, 2, [IHC, OK]],
    ['a failure restarts the count of successes', '++-++', 3, 3, [IHC, IHC, IHC, IHC, IHC]],
    ['unhealthy straight from initial', '--', 3, 2, [IHC, BAD]],
    ['unhealthy from initial after some successes', '++---', 3, 3, [IHC, IHC, IHC, IHC, BAD]],
    ['healthy, then unhealthy after the unhealthy threshold', '+++--', 3, 2, [IHC, IHC, OK, OK, BAD]],
    ['a success in between keeps it healthy', '++-+-+', 2, 2, [IHC, OK, OK, OK, OK, OK]],
    ['recovery after the healthy threshold', '++--+++', 2, 2, [IHC, OK, OK, BAD, BAD, OK, OK]],
    ['a failure while recovering restarts the count', '--+-++', 2, 2, [IHC, BAD, BAD, BAD, BAD, OK]],
    ['stays unhealthy while failing', '----', 2, 2, [IHC, BAD, BAD, BAD]],
    ['thresholds of 10 (the most AWS allows)', '----------', 10, 10, [...Array<string>(9).fill(IHC), BAD]],
  ];
  it.each(table)('%s', (_name, results, healthy, unhealthy, expected) => {
    expect(run(results, healthy, unhealthy)).toEqual(expected);
  });

  it('a simulated target is healthy from registration (failures would still count, were it checked)', () => {
    expect(simulatedTracker().health.state).toBe('healthy');
    expect(run('--', 2, 2, simulatedTracker())).toEqual([OK, BAD]);
  });

  it('tells equal health apart from changed', () => {
    expect(sameHealth({ state: 'healthy' }, { state: 'healthy' })).toBe(true);
    expect(sameHealth({ state: 'initial', reason: 'Elb.RegistrationInProgress' }, { state: 'initial', reason: 'Elb.InitialHealthChecking' })).toBe(false);
    expect(sameHealth(undefined, { state: 'healthy' })).toBe(false);
  });
});

describe('HTTP matcher (Matcher.HttpCode)', () => {
  const table: [string | undefined, number[], number[]][] = [
    // matcher, passing codes, failing codes
    [undefined, [200, 302, 399], [199, 400, 503]],
    ['', [200, 399], [400]],
    ['200', [200], [201, 204, 302]],
    ['200,202', [200, 202], [201, 204]],
    ['200-299', [200, 250, 299], [300, 404]],
    ['200-204, 301,404-405', [200, 204, 301, 404, 405], [205, 302, 403, 406]],
    ['500-599', [500, 503, 599], [200, 499]],
  ];
  it.each(table)('%j', (matcher, pass, fail) => {
    const matches = parseMatcher(matcher);
    for (const code of pass) expect(matches(code), `${code}`).toBe(true);
    for (const code of fail) expect(matches(code), `${code}`).toBe(false);
  });

  it.each(['abc', '199', '200-600', '300-200', '200,,202', '2000'])('refuses %j, naming it', (matcher) => {
    expect(() => parseMatcher(matcher)).toThrow(`health check matcher ${JSON.stringify(matcher)}`);
  });
});

describe('health check spec from DescribeTargetGroups', () => {
  it('fills AWS defaults for what is missing', () => {
    expect(healthCheckSpec({})).toEqual({ protocol: 'TCP', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 5, unhealthyThreshold: 2 });
    expect(healthCheckSpec({ HealthCheckProtocol: 'HTTP' })).toEqual({
      protocol: 'HTTP',
      port: 'traffic-port',
      path: '/',
      matcher: '200-399',
      intervalSeconds: 30,
      timeoutSeconds: 6,
      healthyThreshold: 5,
      unhealthyThreshold: 2,
    });
  });

  it('takes what the group says (LBC eTP=Local: HTTP healthCheckNodePort /healthz 10/6/2/2)', () => {
    expect(
      healthCheckSpec({
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '32100',
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200' },
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 6,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    ).toEqual({ protocol: 'HTTP', port: 32100, path: '/healthz', matcher: '200', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2 });
    expect(healthCheckSpec({ HealthCheckProtocol: 'UDP', HealthCheckPort: 'traffic-port' }).protocol).toBe('TCP');
  });
});
