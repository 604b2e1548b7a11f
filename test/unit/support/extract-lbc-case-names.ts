/**
 * Lists every case of the aws-load-balancer-controller's Service model-building tables (the test functions of
 * pkg/service/model_build_*_test.go and model_builder_test.go) into test/unit/fixtures/lbc/case-names.json:
 * per function its file and case names in file order. lbc-parity.test.ts checks that each is a row of ours.
 *
 * Run: sh scripts/toolchain.sh node test/unit/support/extract-lbc-case-names.ts
 * It reads the files at LBC_COMMIT from the bare clone under /work/.mirror.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LBC_COMMIT, LBC_REPO } from './extract-lbc-build-cases.ts';

const MIRROR = '/work/.mirror/kubernetes-sigs+aws-load-balancer-controller/repo';
const FILES = [
  'pkg/service/model_build_listener_test.go',
  'pkg/service/model_build_load_balancer_test.go',
  'pkg/service/model_build_managed_sg_test.go',
  'pkg/service/model_build_target_group_test.go',
  'pkg/service/model_builder_test.go',
];
const OUT = new URL('../fixtures/lbc/case-names.json', import.meta.url);

export interface LbcTestFunction {
  file: string;
  name: string;
  cases: string[];
}

/** Each `func Test…(` of a Go test file with the `name:`/`testName:` of its table entries (three tabs deep). */
export function extractFunctions(file: string, source: string): LbcTestFunction[] {
  const starts = [...source.matchAll(/^func (Test\w+)\(/gm)];
  return starts.map((match, k) => {
    const body = source.slice(match.index, starts[k + 1]?.index ?? source.length);
    const cases = [...body.matchAll(/\n\t\t\t(?:name|testName|desc)\s*:\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
    return { file, name: match[1]!, cases };
  });
}

function main(): void {
  const functions = FILES.flatMap((file) => extractFunctions(file, execFileSync('git', ['--git-dir', MIRROR, 'show', `${LBC_COMMIT}:${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 })));
  const fixture = {
    source: `https://github.com/${LBC_REPO}/tree/${LBC_COMMIT}/pkg/service`,
    commit: LBC_COMMIT,
    licence: 'Apache-2.0. Test function and case names of the aws-load-balancer-controller, Copyright The Kubernetes Authors (http://www.apache.org/licenses/LICENSE-2.0).',
    functions,
  };
  writeFileSync(OUT, `${JSON.stringify(fixture, null, 1)}\n`);
  process.stdout.write(`${functions.length} functions, ${functions.reduce((n, f) => n + f.cases.length, 0)} cases → ${OUT.pathname}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
