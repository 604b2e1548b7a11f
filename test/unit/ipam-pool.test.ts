import { describe, expect, it } from 'vitest';
import { decide, maxPods, pickAddress, type InstanceLimits, type PoolEni, type PoolView, type WarmSettings } from '../../src/core/ipam/pool.ts';

const t3small: InstanceLimits = { instanceType: 't3.small', maxEnis: 3, ipv4PerEni: 4 };
const m5large: InstanceLimits = { instanceType: 'm5.large', maxEnis: 3, ipv4PerEni: 10 };
const p3dn: InstanceLimits = { instanceType: 'p3dn.24xlarge', maxEnis: 15, ipv4PerEni: 50 };

/** A node simulated the way ipamd runs: pods arrive one by one; the pool loop runs after each. */
class SimulatedNode {
  enis: PoolEni[] = [{ id: 'eni-0', primary: true, createdAt: 0, addresses: [] }];
  now = 0;
  private nextIp = 1;
  private readonly settings: WarmSettings;
  private readonly limits: InstanceLimits;
  calls = 0;

  constructor(settings: WarmSettings, limits: InstanceLimits) {
    this.settings = settings;
    this.limits = limits;
    this.settle();
  }

  private view(): PoolView {
    return { enis: this.enis, lastDecreaseAt: 0, now: this.now };
  }

  private apply(pending: number): boolean {
    const { action } = decide(this.view(), this.settings, this.limits, pending);
    if (!action) return false;
    this.calls++;
    const fresh = (n: number) => Array.from({ length: n }, () => ({ ip: `10.0.0.${this.nextIp++}`, assigned: false, unusable: false }));
    if (action.kind === 'assign') this.enis.find((e) => e.id === action.eniId)!.addresses.push(...fresh(action.count));
    if (action.kind === 'createEni') this.enis.push({ id: `eni-${this.enis.length}`, primary: false, createdAt: this.now, addresses: fresh(action.count) });
    if (action.kind === 'unassign') {
      const eni = this.enis.find((e) => e.id === action.eniId)!;
      eni.addresses = eni.addresses.filter((a) => !action.ips.includes(a.ip));
    }
    if (action.kind === 'deleteEni') this.enis = this.enis.filter((e) => e.id !== action.eniId);
    return true;
  }

  settle() {
    for (let i = 0; i < 100 && this.apply(0); i++);
  }

  addPods(n: number): number {
    let placed = 0;
    for (let i = 0; i < n; i++) {
      for (let tries = 0; tries < 5; tries++) {
        const picked = pickAddress(this.view(), () => undefined);
        if (picked) {
          this.enis.find((e) => e.id === picked.eniId)!.addresses.find((a) => a.ip === picked.ip)!.assigned = true;
          placed++;
          break;
        }
        if (!this.apply(1)) break;
      }
      this.settle();
    }
    return placed;
  }

  get summary() {
    const ips = this.enis.map((e) => e.addresses.length);
    const unused = this.enis.flatMap((e) => e.addresses).filter((a) => !a.assigned).length;
    return { enis: this.enis.length, ips: ips.reduce((a, b) => a + b, 0), unused, perEni: [...ips].sort((a, b) => b - a).join(',') };
  }
}

// The examples of amazon-vpc-cni-k8s docs/eni-and-ip-target.md, row by row.
describe("VPC CNI's documented examples", () => {
  it.each([
    [t3small, { warmEniTarget: 1 }, 0, { enis: 1, ips: 3, unused: 3, perEni: '3' }],
    [t3small, { warmEniTarget: 1 }, 5, { enis: 3, ips: 9, unused: 4, perEni: '3,3,3' }],
    [t3small, { warmEniTarget: 1 }, 9, { enis: 3, ips: 9, unused: 0, perEni: '3,3,3' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 1, minimumIpTarget: 1 }, 0, { enis: 1, ips: 1, unused: 1, perEni: '1' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 1, minimumIpTarget: 1 }, 5, { enis: 2, ips: 6, unused: 1, perEni: '3,3' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 1, minimumIpTarget: 1 }, 9, { enis: 3, ips: 9, unused: 0, perEni: '3,3,3' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 2, minimumIpTarget: 5 }, 0, { enis: 2, ips: 5, unused: 5, perEni: '3,2' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 2, minimumIpTarget: 5 }, 5, { enis: 3, ips: 7, unused: 2, perEni: '3,3,1' }],
    [t3small, { warmEniTarget: 1, warmIpTarget: 2, minimumIpTarget: 5 }, 9, { enis: 3, ips: 9, unused: 0, perEni: '3,3,3' }],
    [p3dn, { warmEniTarget: 1 }, 0, { enis: 1, ips: 49, unused: 49, perEni: '49' }],
    [p3dn, { warmEniTarget: 1 }, 3, { enis: 2, ips: 98, unused: 95, perEni: '49,49' }],
    [p3dn, { warmEniTarget: 1 }, 95, { enis: 3, ips: 147, unused: 52, perEni: '49,49,49' }],
    [p3dn, { warmEniTarget: 1, warmIpTarget: 5, minimumIpTarget: 10 }, 0, { enis: 1, ips: 10, unused: 10, perEni: '10' }],
    [p3dn, { warmEniTarget: 1, warmIpTarget: 5, minimumIpTarget: 10 }, 7, { enis: 1, ips: 12, unused: 5, perEni: '12' }],
    [p3dn, { warmEniTarget: 1, warmIpTarget: 5, minimumIpTarget: 10 }, 15, { enis: 1, ips: 20, unused: 5, perEni: '20' }],
    [p3dn, { warmEniTarget: 1, warmIpTarget: 5, minimumIpTarget: 10 }, 45, { enis: 2, ips: 50, unused: 5, perEni: '49,1' }],
  ])('%o %o with %i pods', (limits, settings, pods, expected) => {
    const node = new SimulatedNode(settings as WarmSettings, limits);
    expect(node.addPods(pods)).toBe(pods);
    expect(node.summary).toEqual(expected);
  });
});

describe('limits', () => {
  it('max pods = ENIs × (IPv4 per ENI − 1) + 2', () => {
    expect(maxPods(m5large)).toBe(29);
    expect(maxPods(t3small)).toBe(11);
  });

  it('MAX_ENI caps the pool below the instance type, and a full node says which limit it hit', () => {
    const node = new SimulatedNode({ warmEniTarget: 1, maxEni: 2 }, t3small);
    expect(node.addPods(8)).toBe(6);
    expect(node.summary.enis).toBe(2);
    const decision = decide({ enis: node.enis, lastDecreaseAt: 0, now: 0 }, { warmEniTarget: 1, maxEni: 2 }, t3small, 1);
    expect(decision.action).toBeUndefined();
    expect(decision.blocked).toBe('at its limit of 2 ENIs × 3 addresses (t3.small: 6 pod addresses, MAX_ENI 2)');
  });

  it('a t3.small node holds 9 pod addresses at most', () => {
    const node = new SimulatedNode({ warmEniTarget: 1 }, t3small);
    expect(node.addPods(12)).toBe(9);
  });
});

describe('shrinking', () => {
  const eni = (id: string, primary: boolean, addresses: [string, 'free' | 'assigned' | 'cooling'][], createdAt = 0): PoolEni => ({
    id,
    primary,
    createdAt,
    addresses: addresses.map(([ip, state]) => ({ ip, assigned: state === 'assigned', unusable: state === 'cooling' })),
  });

  it('WARM_ENI frees a whole idle ENI once two ENIs of addresses are free, never the primary', () => {
    const view = { enis: [eni('eni-0', true, [['a', 'assigned'], ['b', 'free'], ['c', 'free']]), eni('eni-1', false, [['d', 'free'], ['e', 'free'], ['f', 'free']])], lastDecreaseAt: 0, now: 120_000 };
    expect(decide(view, { warmEniTarget: 1 }, t3small).action).toBeUndefined(); // 5 free < (1+1)×3
    view.enis[0]!.addresses[0]!.assigned = false;
    expect(decide(view, { warmEniTarget: 1 }, t3small).action).toEqual({ kind: 'deleteEni', eniId: 'eni-1' });
  });

  it('an ENI with an address in cooldown, or younger than a minute, is not deleted', () => {
    const cooling = { enis: [eni('eni-0', true, [['a', 'free'], ['b', 'free'], ['c', 'free']]), eni('eni-1', false, [['d', 'cooling'], ['e', 'free'], ['f', 'free']])], lastDecreaseAt: 0, now: 120_000 };
    expect(decide(cooling, { warmEniTarget: 0 }, t3small).action).toBeUndefined();
    const young = { enis: [eni('eni-0', true, [['a', 'free']]), eni('eni-1', false, [['d', 'free'], ['e', 'free'], ['f', 'free']], 100_000)], lastDecreaseAt: 0, now: 120_000 };
    expect(decide(young, { warmEniTarget: 0 }, t3small).action).toBeUndefined();
  });

  it('WARM_IP frees the surplus but never an address in cooldown, and not twice within 30 s', () => {
    const enis = [eni('eni-0', true, [['a', 'assigned'], ['b', 'free'], ['c', 'cooling']]), eni('eni-1', false, [['d', 'free'], ['e', 'free'], ['f', 'free']])];
    const settings = { warmEniTarget: 1, warmIpTarget: 1 };
    expect(decide({ enis, lastDecreaseAt: 0, now: 60_000 }, settings, t3small).action).toEqual({ kind: 'unassign', eniId: 'eni-1', ips: ['d', 'e', 'f'] });
    expect(decide({ enis, lastDecreaseAt: 50_000, now: 60_000 }, settings, t3small).action).toBeUndefined();
  });

  it('addresses in cooldown are not available: the pool grows instead of making pods wait (#2896)', () => {
    const enis = [eni('eni-0', true, [['a', 'assigned'], ['b', 'cooling'], ['c', 'cooling']])];
    expect(decide({ enis, lastDecreaseAt: 0, now: 0 }, { warmEniTarget: 1 }, t3small).action).toEqual({ kind: 'createEni', count: 3 });
  });
});

describe('pickAddress', () => {
  it('prefers never-used addresses, then the one released longest ago; never an unusable one', () => {
    const enis: PoolEni[] = [
      {
        id: 'eni-0',
        primary: true,
        createdAt: 0,
        addresses: [
          { ip: 'x', assigned: false, unusable: true },
          { ip: 'old', assigned: false, unusable: false },
          { ip: 'older', assigned: false, unusable: false },
          { ip: 'fresh', assigned: false, unusable: false },
        ],
      },
    ];
    const released: Record<string, number> = { old: 20, older: 10, x: 0 };
    expect(pickAddress({ enis, lastDecreaseAt: 0, now: 0 }, (ip) => released[ip])?.ip).toBe('fresh');
    enis[0]!.addresses[3]!.assigned = true;
    expect(pickAddress({ enis, lastDecreaseAt: 0, now: 0 }, (ip) => released[ip])?.ip).toBe('older');
  });
});
