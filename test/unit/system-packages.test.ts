import { describe, expect, it } from 'vitest';
import { SYSTEM_PACKAGES, missingPackages } from '../../src/devenv/system-packages.ts';

// Which Debian packages setup installs: a package is missing when any command of it is.
describe('system packages of the local VPC', () => {
  const all = Object.values(SYSTEM_PACKAGES).flat();

  it('none missing when every command is there', () => expect(missingPackages(() => true)).toEqual([]));

  it.each([
    ['ip', 'iproute2'],
    ['nsenter', 'util-linux'],
    ['sysctl', 'procps'],
    ['iptables-restore', 'iptables'],
  ])('without %s, %s is missing', (command, pkg) => {
    expect(missingPackages((name) => name !== command)).toEqual([pkg]);
  });

  it('every package when nothing is there, each named once', () => {
    expect(missingPackages(() => false)).toEqual(Object.keys(SYSTEM_PACKAGES));
    expect(all).toContain('iptables');
  });
});
