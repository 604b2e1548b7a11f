/**
 * Extracts the cases of the aws-load-balancer-controller's Test_defaultModelBuilderTask_Build
 * (pkg/service/model_builder_test.go) into test/unit/fixtures/lbc/model_builder_test.json: per case its name,
 * line, wantError, wantNumResources and the wantValue JSON (the LBC's whole stack), so the replay
 * (lbc-build-replay.test.ts) compares against the LBC's own expectations without the network. The inputs
 * (Service, subnets, flags) are Go literals and are transcribed into the test by hand.
 *
 * Run: sh scripts/toolchain.sh node test/unit/support/extract-lbc-build-cases.ts [path/to/model_builder_test.go]
 * Without a path it reads the file at LBC_COMMIT from the bare clone under /work/.mirror.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export const LBC_REPO = 'kubernetes-sigs/aws-load-balancer-controller';
export const LBC_COMMIT = '225f44568848eb25f13e304a5f1cc68c0cd9415d';
const GO_PATH = 'pkg/service/model_builder_test.go';
const MIRROR = '/work/.mirror/kubernetes-sigs+aws-load-balancer-controller/repo';
const OUT = new URL('../fixtures/lbc/model_builder_test.json', import.meta.url);

export interface LbcBuildCase {
  name: string;
  /** The line of its `testName:` in the Go file at LBC_COMMIT. */
  line: number;
  wantError: boolean;
  wantNumResources?: number;
  /** The LBC's stack as its StackMarshaller writes it; absent when the case expects an error. */
  wantValue?: unknown;
}

/** The cases in file order: each `testName:` up to the next, its `wantValue` raw string parsed as JSON. */
export function extractCases(source: string): LbcBuildCase[] {
  const lines = source.split('\n');
  const starts = lines.flatMap((line, i) => (/^\t\t\ttestName:\s+"/.test(line) ? [i] : []));
  return starts.map((start, k) => {
    const body = lines.slice(start, starts[k + 1] ?? lines.length).join('\n');
    const name = /testName:\s+"((?:[^"\\]|\\.)*)"/.exec(body)![1]!.replace(/\\(.)/g, '$1');
    const want = /\n\t\t\twantValue:\s+`([^`]*)`/.exec(body)?.[1];
    const count = /\n\t\t\twantNumResources:\s+(\d+)/.exec(body)?.[1];
    return {
      name,
      line: start + 1,
      wantError: /\n\t\t\twantError:\s+true/.test(body),
      ...(count !== undefined ? { wantNumResources: Number(count) } : {}),
      ...(want !== undefined && want.trim() !== '' ? { wantValue: JSON.parse(want) as unknown } : {}),
    };
  });
}

function main(): void {
  const path = process.argv[2];
  const source = path ? readFileSync(path, 'utf8') : execFileSync('git', ['--git-dir', MIRROR, 'show', `${LBC_COMMIT}:${GO_PATH}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const fixture = {
    source: `https://github.com/${LBC_REPO}/blob/${LBC_COMMIT}/${GO_PATH}`,
    commit: LBC_COMMIT,
    licence:
      'Apache-2.0. The wantValue documents below are copied from the aws-load-balancer-controller, Copyright The Kubernetes Authors, licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0); extracted unchanged by test/unit/support/extract-lbc-build-cases.ts.',
    test: 'Test_defaultModelBuilderTask_Build',
    cases: extractCases(source),
  };
  writeFileSync(OUT, `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`${fixture.cases.length} cases → ${OUT.pathname}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
