import { describe, expect, it } from 'vitest';
import { AwsCallCounter } from '../../src/cloud/calls.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it for these series). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = raw.replace(/\\(.)/g, '$1');
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

async function scrape(registry: ReturnType<typeof createMetrics>['registry']) {
  const samples = parse(await registry.metrics());
  const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
  return { samples, value };
}

const P = 'cloud_provider_localstack_';

describe('createMetrics', () => {
  it('counts AWS calls by service, operation and outcome, with a duration histogram', async () => {
    const metrics = createMetrics();
    const counter = new AwsCallCounter();
    const stop = metrics.observeAwsCalls(counter);
    counter.begin('ELBv2', 'CreateLoadBalancer')('success');
    counter.begin('ELBv2', 'CreateLoadBalancer')('success');
    counter.begin('ELBv2', 'CreateLoadBalancer')('throttled');
    counter.begin('EC2', 'DescribeSubnets')('error');
    stop();
    counter.begin('EC2', 'DescribeSubnets')('success');

    const { value } = await scrape(metrics.registry);
    expect(value(`${P}aws_api_calls_total`, { service: 'ELBv2', operation: 'CreateLoadBalancer', outcome: 'success' })).toBe(2);
    expect(value(`${P}aws_api_calls_total`, { service: 'ELBv2', operation: 'CreateLoadBalancer', outcome: 'throttled' })).toBe(1);
    expect(value(`${P}aws_api_calls_total`, { service: 'EC2', operation: 'DescribeSubnets', outcome: 'error' })).toBe(1);
    // The call after unsubscribing is not counted.
    expect(value(`${P}aws_api_calls_total`, { service: 'EC2', operation: 'DescribeSubnets', outcome: 'success' })).toBeUndefined();
    expect(value(`${P}aws_api_call_duration_seconds_count`, { service: 'ELBv2', operation: 'CreateLoadBalancer' })).toBe(3);
    expect(value(`${P}aws_api_call_duration_seconds_bucket`, { service: 'ELBv2', operation: 'CreateLoadBalancer', le: '+Inf' })).toBe(3);
    // In-process calls take microseconds: all land in the first bucket.
    expect(value(`${P}aws_api_call_duration_seconds_bucket`, { service: 'EC2', operation: 'DescribeSubnets', le: '0.005' })).toBe(1);
  });

  it('observes a real WorkQueue: adds, retries, queue and work durations, and depth at scrape time', async () => {
    const metrics = createMetrics();
    let fail = true;
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const queue: WorkQueue = new WorkQueue(
      async (key) => {
        if (key === 'flaky' && fail) {
          fail = false;
          throw new Error('transient');
        }
        if (key === 'slow') await blocked;
      },
      { name: 'service', concurrency: 1, baseDelayMs: 1, maxDelayMs: 5 },
      metrics.queueObserver('service', () => queue.depth),
    );

    const before = await scrape(metrics.registry);
    expect(before.value(`${P}workqueue_adds_total`, { name: 'service' })).toBe(0);
    expect(before.value(`${P}workqueue_retries_total`, { name: 'service' })).toBe(0);
    expect(before.value(`${P}workqueue_depth`, { name: 'service' })).toBe(0);

    queue.start();
    queue.add('slow');
    queue.add('a');
    queue.add('b');
    const during = await scrape(metrics.registry);
    expect(during.value(`${P}workqueue_depth`, { name: 'service' })).toBe(2);
    release();
    await queue.idle();
    queue.add('flaky');
    await queue.idle();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await queue.idle();
    await queue.stop();

    const { value } = await scrape(metrics.registry);
    // slow, a, b, flaky, and flaky again after its retry.
    expect(value(`${P}workqueue_adds_total`, { name: 'service' })).toBe(5);
    expect(value(`${P}workqueue_retries_total`, { name: 'service' })).toBe(1);
    expect(value(`${P}workqueue_work_duration_seconds_count`, { name: 'service' })).toBe(5);
    expect(value(`${P}workqueue_queue_duration_seconds_count`, { name: 'service' })).toBe(5);
    expect(value(`${P}workqueue_queue_duration_seconds_sum`, { name: 'service' })).toBeGreaterThan(0);
    expect(value(`${P}workqueue_depth`, { name: 'service' })).toBe(0);
  });

  it('records reconciles by result, errors and duration', async () => {
    const metrics = createMetrics();
    metrics.reconcile('service', 120, false);
    metrics.reconcile('service', 80, false);
    metrics.reconcile('service', 3000, true);
    metrics.reconcile('node', 10, false);
    const { value } = await scrape(metrics.registry);
    expect(value(`${P}reconcile_total`, { controller: 'service', result: 'success' })).toBe(2);
    expect(value(`${P}reconcile_total`, { controller: 'service', result: 'error' })).toBe(1);
    expect(value(`${P}reconcile_errors_total`, { controller: 'service' })).toBe(1);
    expect(value(`${P}reconcile_errors_total`, { controller: 'node' })).toBe(0);
    expect(value(`${P}reconcile_duration_seconds_count`, { controller: 'service' })).toBe(3);
    expect(value(`${P}reconcile_duration_seconds_sum`, { controller: 'service' })).toBeCloseTo(3.2);
    expect(value(`${P}reconcile_duration_seconds_bucket`, { controller: 'service', le: '0.1' })).toBe(1);
    expect(value(`${P}reconcile_duration_seconds_bucket`, { controller: 'service', le: '5' })).toBe(3);
  });

  it('makes prefixed gauges once per name and refuses a conflicting redefinition', async () => {
    const metrics = createMetrics('test_');
    const gauge = metrics.gauge('awscni_assigned_ip_addresses', 'Assigned IPs.', ['pool']);
    expect(metrics.gauge('test_awscni_assigned_ip_addresses', 'Assigned IPs.', ['pool'])).toBe(gauge);
    expect(() => metrics.gauge('awscni_assigned_ip_addresses', 'x', ['node'])).toThrow(/already exists with labels \[pool\]/);
    gauge.set({ pool: 'a' }, 7);
    const { value } = await scrape(metrics.registry);
    expect(value('test_awscni_assigned_ip_addresses', { pool: 'a' })).toBe(7);
  });

  it('includes the default process metrics, and registries of two managers do not collide', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.reconcile('service', 1, false);
    const { samples } = await scrape(one.registry);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true);
    expect((await scrape(two.registry)).value(`${P}reconcile_total`, { controller: 'service', result: 'success' })).toBeUndefined();
    expect(one.registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
