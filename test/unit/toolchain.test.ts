import { describe, expect, it } from 'vitest';
import { moduleVersion, parseGoVersion } from '../../src/devenv/toolchain.ts';

describe('toolchain', () => {
  it.each([
    ['go version go1.26.8 linux/amd64', [1, 26, 8]],
    ['go version go1.26 linux/amd64', [1, 26, 0]],
    ['go version devel', undefined],
  ])('parses %s', (output, expected) => {
    expect(parseGoVersion(output)).toEqual(expected);
  });

  it('reads a required module version from a go.mod, single-line or in a block', () => {
    const goMod = 'module x\n\nrequire k8s.io/kubernetes v1.36.3\n\nrequire (\n\tsigs.k8s.io/kwok v0.8.0\n\tgo.etcd.io/etcd/server/v3 v3.6.16\n)\n';
    expect(moduleVersion(goMod, 'k8s.io/kubernetes')).toBe('v1.36.3');
    expect(moduleVersion(goMod, 'sigs.k8s.io/kwok')).toBe('v0.8.0');
    expect(moduleVersion(goMod, 'go.etcd.io/etcd/server/v3')).toBe('v3.6.16');
    expect(() => moduleVersion(goMod, 'k8s.io/api')).toThrow('no version of k8s.io/api in go.mod');
  });
});
