import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file lives in src/devenv/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where built binaries and the Python venv are cached, keyed by what built them. Outside the work tree by
 * default so every clone (and CI's fresh clone) on a machine shares one build; `CPL_CACHE_DIR` moves it.
 */
export const cacheDir =
  process.env.CPL_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cloud-provider-localstack');

/** Everything one running environment owns: certificates, data, logs, pids. `npm run down` removes it. */
export const stateDir = resolve(process.env.CPL_STATE_DIR ?? join(repoRoot, '.devenv'));

export const statePaths = {
  root: stateDir,
  kubeconfig: join(stateDir, 'kubeconfig'),
  /** Links to the built clients (kubectl of the server's version): `export PATH=$PWD/.devenv/bin:$PATH`. */
  bin: join(stateDir, 'bin'),
  awsEnv: join(stateDir, 'aws.env'),
  awsJson: join(stateDir, 'aws.json'),
  pki: join(stateDir, 'pki'),
  logs: join(stateDir, 'logs'),
  pids: join(stateDir, 'pids'),
  etcdData: join(stateDir, 'etcd'),
  config: join(stateDir, 'config'),
  lock: join(stateDir, 'up.lock'),
} as const;

export const logPath = (component: string): string => join(statePaths.logs, `${component}.log`);
