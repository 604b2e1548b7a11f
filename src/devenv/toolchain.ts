import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './paths.ts';

/**
 * Builds and caches what the local environment runs: the control plane from Go modules (through the wrapper
 * modules in devenv/) and the emulator's Python venv (from localstack/requirements*.txt). Each lands in a
 * cache folder keyed by a hash of everything that determines it, so changing a version rebuilds and nothing
 * else does. Go's own build cache makes a rebuild after a version bump incremental.
 */

export interface GoBuild {
  /** Folder name under devenv/ holding the wrapper module. */
  module: string;
  /** Import paths of the main packages to build ('.' for the module's own main). */
  packages: string[];
  /** Names of the binaries the packages produce. */
  binaries: string[];
  ldflags: (version: string) => string;
  /** The module whose version the cache key and ldflags use; none for a module of ours (its files are the key). */
  versionOf?: string;
}

export const goBuilds: GoBuild[] = [
  {
    module: 'etcd',
    packages: ['.'],
    binaries: ['etcd'],
    versionOf: 'go.etcd.io/etcd/server/v3',
    ldflags: () => '-s -w',
  },
  {
    module: 'kube',
    // kubectl too: a client of the server's version, so the README's tour needs nothing installed by hand.
    // kube-proxy and agnhost run inside the local VPC's networked nodes and pods (ADR 0011).
    packages: [
      'k8s.io/kubernetes/cmd/kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-controller-manager',
      'k8s.io/kubernetes/cmd/kube-scheduler',
      'k8s.io/kubernetes/cmd/kubectl',
      'k8s.io/kubernetes/cmd/kube-proxy',
      'k8s.io/kubernetes/test/images/agnhost',
    ],
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kube-proxy', 'agnhost'],
    versionOf: 'k8s.io/kubernetes',
    ldflags: (version) => {
      const [major, minor] = version.replace(/^v/, '').split('.');
      return `-s -w -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor}`;
    },
  },
  {
    module: 'kwok',
    packages: ['sigs.k8s.io/kwok/cmd/kwok'],
    binaries: ['kwok'],
    versionOf: 'sigs.k8s.io/kwok',
    ldflags: (version) => `-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version}`,
  },
  {
    // The stand-in process for pods of networked nodes whose image is not agnhost (docs/pods.md).
    module: 'podserver',
    packages: ['.'],
    binaries: ['podserver'],
    ldflags: () => '-s -w',
  },
];

const sha = (parts: string[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 12);
};

const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

export function moduleVersion(goMod: string, modulePath: string): string {
  const match = new RegExp(`^\\s*(?:require\\s+)?${modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`no version of ${modulePath} in go.mod`);
  return match[1];
}

/** "go1.26.8" → [1, 26, 8]. */
export function parseGoVersion(output: string): [number, number, number] | undefined {
  const match = /go(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function requireGo(minimum: string): string {
  const result = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      `Go ${minimum} or newer is needed to build the local control plane (etcd, kube-apiserver, kwok) and 'go' was not found on PATH. Install Go ${minimum}+ and run again.`,
    );
  }
  const have = parseGoVersion(result.stdout);
  const want = parseGoVersion(`go${minimum}`);
  if (!have || !want) return result.stdout.trim();
  for (let i = 0; i < 3; i++) {
    if (have[i]! > want[i]!) break;
    if (have[i]! < want[i]!) {
      throw new Error(`Go ${minimum} or newer is needed to build the local control plane; found ${result.stdout.trim()}. Install a newer Go and run again.`);
    }
  }
  return result.stdout.trim();
}

export interface BuiltComponent {
  dir: string;
  version: string;
  binary: (name: string) => string;
}

function goBuildDir(build: GoBuild, goVersion: string): { dir: string; version: string } {
  const moduleDir = join(repoRoot, 'devenv', build.module);
  const goMod = readText(join(moduleDir, 'go.mod'));
  const version = build.versionOf ? moduleVersion(goMod, build.versionOf) : 'local';
  // The package list is part of the key: a command added to a build is a new build even when go.mod is unchanged.
  const key = sha([goMod, readText(join(moduleDir, 'go.sum')), readText(join(moduleDir, 'main.go')), goVersion, build.ldflags(version), build.packages.join(' ')]);
  return { dir: join(cacheDir, 'bin', `${build.module}-${version}-${key}`), version };
}

const formatDuration = (ms: number) => `${Math.floor(ms / 60_000)}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;

async function runGoBuild(build: GoBuild, outDir: string, version: string, log: (line: string) => void): Promise<void> {
  const moduleDir = join(repoRoot, 'devenv', build.module);
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  const logFile = join(cacheDir, 'bin', `${build.module}-build.log`);
  const logStream = createWriteStream(logFile);
  const started = Date.now();
  let compiled = 0;
  log(`building ${build.binaries.join(', ')} ${version} with Go (first time: several minutes; log: ${logFile})`);
  const ticker = setInterval(() => log(`  ${build.module}: ${compiled} packages compiled, ${formatDuration(Date.now() - started)}`), 20_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        'go',
        ['build', '-v', '-trimpath', '-ldflags', build.ldflags(version), '-o', `${tmpDir}/`, ...build.packages],
        { cwd: moduleDir, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const count = (chunk: Buffer) => {
        logStream.write(chunk);
        compiled += chunk.toString().split('\n').filter((line) => line && !line.startsWith('go:') && !line.startsWith('#')).length;
      };
      child.stdout.on('data', count);
      child.stderr.on('data', count);
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) {
      const tail = readText(logFile).trimEnd().split('\n').slice(-15).join('\n');
      throw new Error(`building ${build.module} (${build.binaries.join(', ')}) failed with exit code ${code}; read ${logFile}\n${tail}`);
    }
    for (const binary of build.binaries) {
      if (!existsSync(join(tmpDir, binary))) throw new Error(`building ${build.module}: ${binary} was not produced; read ${logFile}`);
    }
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmpDir, outDir);
    log(`  ${build.module}: built in ${formatDuration(Date.now() - started)}`);
  } finally {
    clearInterval(ticker);
    logStream.end();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Builds (once) every Go component; returns where each one's binaries are. */
export async function ensureGoBinaries(log: (line: string) => void): Promise<Record<string, BuiltComponent>> {
  const minimum = /^go\s+(\S+)/m.exec(readText(join(repoRoot, 'devenv', 'kube', 'go.mod')))?.[1] ?? '1.26.0';
  const goVersion = requireGo(minimum);
  mkdirSync(join(cacheDir, 'bin'), { recursive: true });
  const built: Record<string, BuiltComponent> = {};
  for (const build of goBuilds) {
    const { dir, version } = goBuildDir(build, goVersion);
    if (!build.binaries.every((binary) => existsSync(join(dir, binary)))) await runGoBuild(build, dir, version, log);
    built[build.module] = { dir, version, binary: (name) => join(dir, name) };
  }
  return built;
}

export interface PythonEnv {
  dir: string;
  python: string;
  motoServer: string;
}

/** A project-local venv with the pinned moto server, keyed by the requirement files. */
export async function ensureEmulatorVenv(log: (line: string) => void): Promise<PythonEnv> {
  const requirements = join(repoRoot, 'localstack', 'requirements.txt');
  const constraints = join(repoRoot, 'localstack', 'constraints.txt');
  const python = process.env.CPL_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`Python 3.9+ ('${python}', or set CPL_PYTHON) is needed to run the AWS emulator (moto) and was not found`);
  }
  const [major, minor] = probe.stdout.trim().split('.').map(Number);
  if (major !== 3 || (minor ?? 0) < 9) throw new Error(`Python 3.9+ is needed to run the AWS emulator (moto); ${python} is ${probe.stdout.trim()}`);
  const key = sha([readText(requirements), readText(constraints), probe.stdout.trim()]);
  const dir = join(cacheDir, `venv-moto-${key}`);
  const env: PythonEnv = { dir, python: join(dir, 'bin', 'python'), motoServer: join(dir, 'bin', 'moto_server') };
  if (existsSync(join(dir, '.complete'))) return env;
  log(`installing the AWS emulator (moto server) into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  const steps: [string, string[]][] = [
    [python, ['-m', 'venv', dir]],
    [env.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements, '-c', constraints]],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) {
      throw new Error(`installing the emulator failed: ${command} ${args.join(' ')}\n${(result.stderr || result.stdout || String(result.error)).trim().split('\n').slice(-15).join('\n')}`);
    }
  }
  writeFileSync(join(dir, '.complete'), new Date().toISOString());
  return env;
}
