import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAwsClients } from '../cloud/clients.ts';
import { httpGet } from './http.ts';
import { logPath, repoRoot, statePaths } from './paths.ts';
import { createClusterPki, type ClusterPki } from './pki.ts';
import { isPortFree, isProcessAlive, isRunning, listRecords, logTail, readRecord, startProcess, stopProcess, type ProcessRecord } from './processes.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { readSeedTopology, seedNetwork, type SeededNetwork } from './seed.ts';
import { apiserverUrl, emulatorEndpoint, settings } from './settings.ts';
import { IPAM_NODE_LABEL } from '../core/ipam/keys.ts';
import { ensureEmulatorVenv, ensureGoBinaries, type BuiltComponent, type PythonEnv } from './toolchain.ts';
import { ensureSystemPackages } from './system-packages.ts';
import { teardownAll } from './vpc/fabric.ts';
import { netnsPath, routerNs } from './vpc/names.ts';
import { nlbPaths } from '../dataplane/paths.ts';
import { request as httpRequest } from 'node:http';
import { NOT_NETWORKED_SELECTOR } from './vpc/keys.ts';

export type Log = (line: string) => void;

/** What `up` writes to .devenv/aws.json (and, as shell variables, to .devenv/aws.env). */
export interface AwsEnvironment extends SeededNetwork {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  clusterName: string;
}

export interface Toolchain {
  go: Record<string, BuiltComponent>;
  python: PythonEnv;
}

/** Builds or finds everything the environment runs (Go binaries, the emulator's venv). */
export async function setup(log: Log): Promise<Toolchain> {
  ensureSystemPackages(log);
  const python = await ensureEmulatorVenv(log);
  const go = await ensureGoBinaries(log);
  return { go, python };
}

interface Component {
  name: string;
  ports: { port: number; variable: string }[];
  spec: (tools: Toolchain, files: StateFiles) => { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  ready: (files: StateFiles) => Promise<boolean>;
  /** How long it may take to become ready after start. */
  startTimeoutMs: number;
}

interface StateFiles {
  pki: ClusterPki;
  dir: string;
  file: (name: string) => string;
}

const pkiFiles = {
  ca: ['ca.crt', 'ca.key'],
  apiserver: ['apiserver.crt', 'apiserver.key'],
  admin: ['admin.crt', 'admin.key'],
  controllerManager: ['controller-manager.crt', 'controller-manager.key'],
  scheduler: ['scheduler.crt', 'scheduler.key'],
  kwok: ['kwok.crt', 'kwok.key'],
} as const;

const pkiFile = (name: string) => join(statePaths.pki, name);
const pkiComplete = () =>
  existsSync(pkiFile('sa.pub')) && Object.values(pkiFiles).every(([cert, key]) => existsSync(pkiFile(cert)) && existsSync(pkiFile(key)));

function readPki(): StateFiles {
  const read = ([cert, key]: readonly [string, string]) => ({ cert: readFileSync(pkiFile(cert), 'utf8'), key: readFileSync(pkiFile(key), 'utf8') });
  const pki: ClusterPki = {
    ca: read(pkiFiles.ca),
    apiserver: read(pkiFiles.apiserver),
    admin: read(pkiFiles.admin),
    controllerManager: read(pkiFiles.controllerManager),
    scheduler: read(pkiFiles.scheduler),
    kwok: read(pkiFiles.kwok),
    serviceAccount: { publicKey: readFileSync(pkiFile('sa.pub'), 'utf8'), privateKey: readFileSync(pkiFile('sa.key'), 'utf8') },
  };
  return { pki, dir: statePaths.pki, file: pkiFile };
}

/** The cluster's certificates and kubeconfigs: made once per environment, kept until `down`. */
async function ensurePki(): Promise<StateFiles> {
  if (!pkiComplete()) {
    mkdirSync(statePaths.pki, { recursive: true, mode: 0o700 });
    const fresh = await createClusterPki(settings.kubernetesServiceIp);
    for (const [role, [cert, key]] of Object.entries(pkiFiles)) {
      const pair = fresh[role as keyof typeof pkiFiles];
      writeFileSync(pkiFile(cert), pair.cert);
      writeFileSync(pkiFile(key), pair.key, { mode: 0o600 });
    }
    writeFileSync(pkiFile('sa.pub'), fresh.serviceAccount.publicKey);
    writeFileSync(pkiFile('sa.key'), fresh.serviceAccount.privateKey, { mode: 0o600 });
  }
  const { pki, dir, file } = readPki();
  const kubeconfigs = {
    'controller-manager.kubeconfig': { client: pki.controllerManager, user: 'system:kube-controller-manager' },
    'scheduler.kubeconfig': { client: pki.scheduler, user: 'system:kube-scheduler' },
    'kwok.kubeconfig': { client: pki.kwok, user: 'kwok' },
  };
  for (const [name, { client, user }] of Object.entries(kubeconfigs)) {
    writeFileSync(file(name), renderKubeconfig({ server: apiserverUrl, caPem: pki.ca.cert, client, user }), { mode: 0o600 });
  }
  writeFileSync(statePaths.kubeconfig, renderKubeconfig({ server: apiserverUrl, caPem: pki.ca.cert, client: pki.admin, user: 'admin' }), { mode: 0o600 });
  return { pki, dir, file };
}

const https = (port: number, path: string, files: StateFiles, withClientCert: boolean) =>
  httpGet(`https://${settings.host}:${port}${path}`, {
    ca: files.pki.ca.cert,
    ...(withClientCert ? { cert: files.pki.admin.cert, key: files.pki.admin.key } : {}),
    // KCM and the scheduler serve with self-signed certificates of their own.
    rejectUnauthorized: withClientCert,
  }).then((response) => response.status === 200, () => false);

/** The node Lease duration kwok sets and renews (every quarter of it), the kubelet's default. */
export const KWOK_NODE_LEASE_SECONDS = 40;

function kwokComponent(name: string, stages: string, nodeSelector: string, port: number, variable: string): Component {
  return {
    name,
    ports: [{ port, variable }],
    spec: (tools, files) => ({
      command: tools.go.kwok!.binary('kwok'),
      args: [
        `--kubeconfig=${files.file('kwok.kubeconfig')}`,
        `--config=${join(repoRoot, 'devenv', 'kwok', stages)}`,
        `--manage-nodes-with-label-selector=${nodeSelector}`,
        `--cidr=${settings.kwokPodCidr}`,
        `--server-address=${settings.host}:${port}`,
        // A Lease per node in kube-node-lease, renewed every quarter of its duration, as a kubelet does (its
        // default, 40 s). kwok's default is none, and then kube-controller-manager's node lifecycle marks every
        // node NotReady and its pods unready after node-monitor-grace-period (50 s): the Stages refresh the Ready
        // heartbeat only every ~10 minutes, as a kubelet with a lease does.
        `--node-lease-duration-seconds=${KWOK_NODE_LEASE_SECONDS}`,
      ],
    }),
    ready: () => httpGet(`http://${settings.host}:${port}/healthz`).then((r) => r.status === 200, () => false),
    startTimeoutMs: 30_000,
  };
}

const components: Component[] = [
  {
    name: 'emulator',
    ports: [{ port: settings.ports.emulator, variable: 'CPL_EMULATOR_PORT' }],
    // moto's server with our extensions (localstack/cpl_emulator: target health as ELBv2 reports it).
    // Target health of groups in use comes from the `nlb` component's checks (pushed to the plugin; simulated
    // kwok targets healthy at once); CPL_EMULATOR_HEALTH=instant is for emulators without a data plane.
    spec: (tools) => ({
      command: tools.python.python,
      args: ['-m', 'cpl_emulator', '-H', settings.host, '-p', String(settings.ports.emulator)],
      env: { ...process.env, PYTHONPATH: join(repoRoot, 'localstack') },
    }),
    ready: () => httpGet(`${emulatorEndpoint}/moto-api/`).then((r) => r.status === 200, () => false),
    startTimeoutMs: 60_000,
  },
  {
    name: 'etcd',
    ports: [
      { port: settings.ports.etcdClient, variable: 'CPL_ETCD_PORT' },
      { port: settings.ports.etcdPeer, variable: 'CPL_ETCD_PEER_PORT' },
    ],
    spec: (tools) => {
      const client = `http://${settings.host}:${settings.ports.etcdClient}`;
      const peer = `http://${settings.host}:${settings.ports.etcdPeer}`;
      return {
        command: tools.go.etcd!.binary('etcd'),
        args: [
          '--name=cpl',
          `--data-dir=${statePaths.etcdData}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=cpl=${peer}`,
          // A throwaway test store: durability is not worth the fsync latency.
          '--unsafe-no-fsync',
          '--quota-backend-bytes=4294967296',
          '--log-level=warn',
        ],
      };
    },
    ready: () => httpGet(`http://${settings.host}:${settings.ports.etcdClient}/health`).then((r) => r.status === 200 && r.body.includes('true'), () => false),
    startTimeoutMs: 30_000,
  },
  {
    name: 'kube-apiserver',
    ports: [{ port: settings.ports.apiserver, variable: 'CPL_APISERVER_PORT' }],
    spec: (tools, files) => ({
      command: tools.go.kube!.binary('kube-apiserver'),
      args: [
        `--etcd-servers=http://${settings.host}:${settings.ports.etcdClient}`,
        `--bind-address=${settings.host}`,
        `--advertise-address=${settings.host}`,
        `--secure-port=${settings.ports.apiserver}`,
        `--tls-cert-file=${files.file('apiserver.crt')}`,
        `--tls-private-key-file=${files.file('apiserver.key')}`,
        `--client-ca-file=${files.file('ca.crt')}`,
        `--service-cluster-ip-range=${settings.serviceCidr}`,
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${files.file('sa.pub')}`,
        `--service-account-signing-key-file=${files.file('sa.key')}`,
        '--enable-admission-plugins=NodeRestriction',
        '--endpoint-reconciler-type=lease',
        '--v=1',
      ],
    }),
    ready: (files) => https(settings.ports.apiserver, '/readyz', files, true),
    startTimeoutMs: 90_000,
  },
  {
    name: 'kube-controller-manager',
    ports: [{ port: settings.ports.controllerManager, variable: 'CPL_KCM_PORT' }],
    spec: (tools, files) => ({
      command: tools.go.kube!.binary('kube-controller-manager'),
      args: [
        `--kubeconfig=${files.file('controller-manager.kubeconfig')}`,
        `--authentication-kubeconfig=${files.file('controller-manager.kubeconfig')}`,
        `--authorization-kubeconfig=${files.file('controller-manager.kubeconfig')}`,
        `--bind-address=${settings.host}`,
        `--secure-port=${settings.ports.controllerManager}`,
        // Every default controller: EndpointSlice, namespace, garbage collector, Deployment/ReplicaSet, ...
        '--controllers=*',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${files.file('sa.key')}`,
        `--root-ca-file=${files.file('ca.crt')}`,
        `--cluster-signing-cert-file=${files.file('ca.crt')}`,
        `--cluster-signing-key-file=${files.file('ca.key')}`,
        `--service-cluster-ip-range=${settings.serviceCidr}`,
        '--leader-elect=false',
        '--v=1',
      ],
    }),
    ready: (files) => https(settings.ports.controllerManager, '/healthz', files, false),
    startTimeoutMs: 60_000,
  },
  {
    name: 'kube-scheduler',
    ports: [{ port: settings.ports.scheduler, variable: 'CPL_SCHEDULER_PORT' }],
    spec: (tools, files) => ({
      command: tools.go.kube!.binary('kube-scheduler'),
      args: [
        `--kubeconfig=${files.file('scheduler.kubeconfig')}`,
        `--authentication-kubeconfig=${files.file('scheduler.kubeconfig')}`,
        `--authorization-kubeconfig=${files.file('scheduler.kubeconfig')}`,
        `--bind-address=${settings.host}`,
        `--secure-port=${settings.ports.scheduler}`,
        '--leader-elect=false',
        '--v=1',
      ],
    }),
    ready: (files) => https(settings.ports.scheduler, '/healthz', files, false),
    startTimeoutMs: 60_000,
  },
  // Networked nodes (network=vpc) are played by their node agents in the local VPC, not by kwok (ADR 0011).
  kwokComponent('kwok', 'stages.yaml', `${IPAM_NODE_LABEL}!=enabled,${NOT_NETWORKED_SELECTOR}`, settings.ports.kwok, 'CPL_KWOK_PORT'),
  // Nodes in the ENI pool: their pods start only with the address the pool gave them.
  kwokComponent('kwok-vpc', 'stages-vpc.yaml', `${IPAM_NODE_LABEL}=enabled,${NOT_NETWORKED_SELECTOR}`, settings.ports.kwokVpc, 'CPL_KWOK_VPC_PORT'),
];

/**
 * The controller itself, on the environment (`run --local`): started after seeding, since it reads
 * .devenv/aws.json. Tests stop it (each test runs its own controllers under cluster names of their own).
 */
const controllerComponent: Component = {
  name: 'controller',
  ports: [
    { port: settings.ports.controllerMetrics, variable: 'CPL_CONTROLLER_METRICS_PORT' },
    { port: settings.ports.controllerHealth, variable: 'CPL_CONTROLLER_HEALTH_PORT' },
  ],
  spec: () => ({
    command: process.execPath,
    args: [
      join(repoRoot, 'src', 'cli', 'main.ts'),
      'run',
      '--local',
      `--metrics-address=${settings.host}:${settings.ports.controllerMetrics}`,
      `--health-address=${settings.host}:${settings.ports.controllerHealth}`,
      '--log-format=json',
    ],
    env: { ...process.env, CPL_STATE_DIR: statePaths.root },
  }),
  ready: () => httpGet(`http://${settings.host}:${settings.ports.controllerHealth}/readyz`).then((r) => r.status === 200, () => false),
  startTimeoutMs: 60_000,
};

/**
 * The local VPC (ADR 0011): network namespaces for the router, the bastion and every networked node, node agents
 * in them. Started after seeding (it reads .devenv/aws.json for the VPC and its subnets).
 */
const vpcComponent: Component = {
  name: 'vpc',
  ports: [{ port: settings.ports.vpc, variable: 'CPL_VPC_PORT' }],
  spec: (tools) => ({
    command: process.execPath,
    args: [
      join(repoRoot, 'src', 'devenv', 'vpc', 'supervisor.ts'),
      '--kube-proxy',
      tools.go.kube!.binary('kube-proxy'),
      '--agnhost',
      tools.go.kube!.binary('agnhost'),
      '--podserver',
      tools.go.podserver!.binary('podserver'),
    ],
    env: { ...process.env, CPL_STATE_DIR: statePaths.root },
  }),
  ready: () => httpGet(`http://${settings.host}:${settings.ports.vpc}/healthz`).then((r) => r.status === 200, () => false),
  startTimeoutMs: 60_000,
};

/** GET /healthz of a server listening on a Unix socket (the nlb component serves it from inside the router ns). */
const unixHealthz = (socketPath: string): Promise<boolean> =>
  new Promise((resolve) => {
    const req = httpRequest({ socketPath, path: '/healthz', timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });

/**
 * The NLB data plane (ADR 0012): one process inside the VPC router's namespace (nsenter keeps the host's mount
 * namespace, so it reads the state folder and its sockets). Started after `vpc`, which made the namespace and
 * serves the emulator relay socket it reads the emulator through. Readiness: /healthz on its Unix socket.
 */
const nlbComponent: Component = {
  name: 'nlb',
  ports: [],
  spec: () => ({
    command: 'nsenter',
    args: [`--net=${netnsPath(routerNs())}`, '--', process.execPath, join(repoRoot, 'src', 'dataplane', 'main.ts')],
    env: { ...process.env, CPL_STATE_DIR: statePaths.root },
  }),
  ready: () => unixHealthz(nlbPaths().healthSocket),
  startTimeoutMs: 60_000,
};

const allComponents = [...components, vpcComponent, nlbComponent, controllerComponent];
export const componentNames = allComponents.map((component) => component.name);

class ComponentError extends Error {
  constructor(component: string, problem: string) {
    super(`${component}: ${problem}\n  log: ${logPath(component)}\n${logTail(component).replace(/^/gm, '  | ')}`);
  }
}

async function startComponent(component: Component, tools: Toolchain, files: StateFiles, log: Log): Promise<void> {
  for (const { port, variable } of component.ports) {
    if (!(await isPortFree(settings.host, port))) {
      throw new Error(`${component.name}: port ${settings.host}:${port} is already in use by another process; stop it or choose another port with ${variable}=<port>`);
    }
  }
  const spec = component.spec(tools, files);
  const record = startProcess({ name: component.name, ...spec });
  const started = Date.now();
  while (!(await component.ready(files))) {
    if (!isRunning(record)) throw new ComponentError(component.name, `exited while starting`);
    if (Date.now() - started > component.startTimeoutMs) {
      throw new ComponentError(component.name, `not ready after ${component.startTimeoutMs / 1000}s`);
    }
    await sleep(250);
  }
  log(`  ${component.name} ready (pid ${record.pid}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
}

/** Serialises concurrent `up`/`down` calls (a user's and a test run's) with an exclusive lock file. */
async function withLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(statePaths.root, { recursive: true });
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      writeFileSync(statePaths.lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(readFileSync(statePaths.lock, 'utf8'));
      const alive = holder !== process.pid && isProcessAlive(holder);
      if (!alive) rmSync(statePaths.lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`another 'up' or 'down' (pid ${holder}) holds ${statePaths.lock}`);
      else await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(statePaths.lock, { force: true });
  }
}

export interface UpResult {
  started: string[];
  alreadyUp: string[];
  aws: AwsEnvironment;
}

/**
 * Brings the environment up: builds what is missing, starts every component that is not running (in order,
 * each waited for), seeds the emulator, writes .devenv/kubeconfig and .devenv/aws.env. A second call finds it up.
 */
export interface UpOptions {
  /** Start the controller on the environment too (default true). */
  controller?: boolean;
}

export async function up(log: Log, options: UpOptions = {}): Promise<UpResult> {
  return withLock(async () => {
    const tools = await setup(log);
    const files = await ensurePki();
    linkClients(tools);
    const started: string[] = [];
    const alreadyUp: string[] = [];
    for (const component of components) {
      const record = readRecord(component.name);
      if (record && isRunning(record) && (await component.ready(files))) {
        alreadyUp.push(component.name);
        continue;
      }
      if (record) await stopProcess(record);
      log(`starting ${component.name}`);
      try {
        await startComponent(component, tools, files, log);
      } catch (error) {
        // Leave nothing half-started behind a failure.
        const failed = readRecord(component.name);
        if (failed) await stopProcess(failed);
        throw error;
      }
      started.push(component.name);
    }
    const aws = await seedEmulator();
    await ensureStarted(vpcComponent, tools, files, log, started, alreadyUp);
    await ensureStarted(nlbComponent, tools, files, log, started, alreadyUp);
    if (options.controller !== false) await ensureStarted(controllerComponent, tools, files, log, started, alreadyUp);
    return { started, alreadyUp, aws };
  });
}

/** `.devenv/bin/kubectl` → the kubectl built with the control plane (replaced each time: the build may have moved). */
function linkClients(tools: Toolchain): void {
  mkdirSync(statePaths.bin, { recursive: true });
  const link = join(statePaths.bin, 'kubectl');
  rmSync(link, { force: true });
  symlinkSync(tools.go.kube!.binary('kubectl'), link);
}

/** Stops the environment's own controller, if it runs (tests run controllers of their own). */
export async function stopController(log: Log): Promise<boolean> {
  const record = readRecord(controllerComponent.name);
  if (!record || !isRunning(record)) return false;
  await stopProcess(record);
  log(`stopped ${controllerComponent.name} (pid ${record.pid})`);
  return true;
}

async function seedEmulator(): Promise<AwsEnvironment> {
  const clients = createAwsClients({ region: settings.region, endpoint: emulatorEndpoint, credentials: settings.credentials });
  try {
    const network = await seedNetwork(clients.ec2, settings.clusterName, readSeedTopology());
    const aws: AwsEnvironment = {
      endpoint: emulatorEndpoint,
      region: settings.region,
      accessKeyId: settings.credentials.accessKeyId,
      secretAccessKey: settings.credentials.secretAccessKey,
      clusterName: settings.clusterName,
      ...network,
    };
    writeFileSync(statePaths.awsJson, JSON.stringify(aws, null, 2));
    const env = {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_DEFAULT_REGION: aws.region,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      CPL_CLUSTER_NAME: aws.clusterName,
      CPL_VPC_ID: aws.vpcId,
      CPL_PUBLIC_SUBNET_IDS: aws.publicSubnets.map((s) => s.id).join(','),
      CPL_PRIVATE_SUBNET_IDS: aws.privateSubnets.map((s) => s.id).join(','),
      CPL_NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId,
      KUBECONFIG: statePaths.kubeconfig,
    };
    writeFileSync(
      statePaths.awsEnv,
      `# Written by 'npm run up'. Use with: set -a; . ${statePaths.awsEnv}; set +a\n` +
        Object.entries(env).map(([key, value]) => `${key}=${value}`).join('\n') + '\n',
    );
    return aws;
  } finally {
    clients.destroy();
  }
}

export function readAwsEnvironment(): AwsEnvironment {
  if (!existsSync(statePaths.awsJson)) throw new Error(`${statePaths.awsJson} is missing: run 'npm run up' first`);
  return JSON.parse(readFileSync(statePaths.awsJson, 'utf8')) as AwsEnvironment;
}

/** Starts a component unless it is up and ready; stops what a failed start left behind. */
async function ensureStarted(component: Component, tools: Toolchain, files: StateFiles, log: Log, started: string[], alreadyUp: string[]): Promise<void> {
  const record = readRecord(component.name);
  if (record && isRunning(record) && (await component.ready(files))) {
    alreadyUp.push(component.name);
    return;
  }
  if (record) await stopProcess(record);
  log(`starting ${component.name}`);
  await startComponent(component, tools, files, log).catch(async (error: unknown) => {
    const failed = readRecord(component.name);
    if (failed) await stopProcess(failed);
    throw error;
  });
  started.push(component.name);
}

/**
 * Stops, in reverse order, exactly the processes `up` recorded, removes every network namespace of the
 * environment (and so whatever still runs in one: also after the vpc supervisor crashed), then removes the
 * state folder.
 */
export async function down(log: Log): Promise<string[]> {
  return withLock(async () => {
    const records = listRecords();
    const order = [...componentNames].reverse();
    const rank = (record: ProcessRecord) => {
      const index = order.indexOf(record.name);
      return index === -1 ? -1 : index;
    };
    const stopped: string[] = [];
    for (const record of records.sort((a, b) => rank(a) - rank(b))) {
      const wasRunning = isRunning(record);
      await stopProcess(record);
      if (wasRunning) {
        stopped.push(record.name);
        log(`stopped ${record.name} (pid ${record.pid})`);
      }
    }
    const namespaces = await teardownAll();
    if (namespaces.length > 0) log(`removed network namespaces: ${namespaces.join(' ')}`);
    for (const entry of ['pki', 'logs', 'pids', 'etcd', 'config', 'kubeconfig', 'aws.env', 'aws.json']) {
      rmSync(join(statePaths.root, entry), { recursive: true, force: true });
    }
    return stopped;
  }).finally(() => rmSync(statePaths.root, { recursive: true, force: true }));
}

export interface ComponentStatus {
  name: string;
  state: 'up' | 'down' | 'unhealthy';
  pid?: number;
  log: string;
}

export async function status(): Promise<ComponentStatus[]> {
  const files = pkiComplete() ? readPki() : undefined;
  const result: ComponentStatus[] = [];
  for (const component of allComponents) {
    const record = readRecord(component.name);
    if (!record || !isRunning(record)) {
      result.push({ name: component.name, state: 'down', log: logPath(component.name) });
      continue;
    }
    const healthy = files ? await component.ready(files) : false;
    result.push({ name: component.name, state: healthy ? 'up' : 'unhealthy', pid: record.pid, log: logPath(component.name) });
  }
  return result;
}
