import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuthorizationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1ConfigMap,
  type V1Deployment,
  type V1PodDisruptionBudget,
  type V1PolicyRule,
  type V1ResourceAttributes,
  type V1Role,
  type V1RoleBinding,
  type V1Secret,
} from '@kubernetes/client-node';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { registerRunCommand } from '../../src/cli/run-command.ts';
import { connect, createTestNamespace, uniqueName, waitFor, type TestEnvironment } from '../../src/testing/index.ts';

/**
 * manifests/ against the real kube-apiserver: every object of the kustomization is accepted by a server-side
 * dry run (no kustomize binary: the kustomization's `resources` are read and its `namespace` applied), and the
 * RBAC grants exactly what the code uses, checked both on paper and by SubjectAccessReviews against the real
 * authorizer. Also: docs/iam-policy.json allows every AWS call the controllers make.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MANIFESTS = join(ROOT, 'manifests');
const FIELD_MANAGER = 'cloud-provider-localstack-manifests-test';

type Obj = KubernetesObject & { metadata: { name: string; namespace?: string } };

function loadYaml(file: string): Obj[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  const objects: Obj[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value = document.toJS() as Obj | null;
    if (value) objects.push(value);
  }
  return objects;
}

interface Kustomization {
  namespace?: string;
  resources: string[];
}

const kustomization = loadYaml(join(MANIFESTS, 'kustomization.yaml'))[0] as unknown as Kustomization;
const resources = kustomization.resources.flatMap((file) => loadYaml(join(MANIFESTS, file)));
const secretExample = loadYaml(join(MANIFESTS, 'secret.example.yaml'));
const NAMESPACE = kustomization.namespace ?? 'default';
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

function one<T extends Obj>(kind: string): T {
  const found = resources.filter((o) => o.kind === kind);
  expect(found, `exactly one ${kind} in the kustomization`).toHaveLength(1);
  return found[0] as T;
}

/** client-node's object API with its (protected) discovery lookup made public. */
class ObjectApi extends KubernetesObjectApi {
  async namespaced(object: KubernetesObject): Promise<boolean> {
    const resource = await this.resource(object.apiVersion!, object.kind!);
    if (!resource) throw new Error(`the apiserver does not serve ${object.apiVersion} ${object.kind}`);
    return resource.namespaced;
  }
}

/** Every field we wrote is in what the server answered (a dropped or pruned field means a typo). */
function missingFields(sent: unknown, got: unknown, path = ''): string[] {
  if (sent === null || typeof sent !== 'object') return sent === got || String(sent) === String(got) ? [] : [`${path}: sent ${JSON.stringify(sent)}, got ${JSON.stringify(got)}`];
  if (got === null || typeof got !== 'object') return [`${path}: missing`];
  if (Array.isArray(sent)) return sent.flatMap((item, i) => missingFields(item, (got as unknown[])[i], `${path}[${i}]`));
  return Object.entries(sent).flatMap(([key, value]) => missingFields(value, (got as Record<string, unknown>)[key], `${path}.${key}`));
}

// ---- What the code uses (each line names the code); the RBAC must grant this set and nothing else. ----
const rule = (group: string, resource: string, verbs: string[], name?: string) => verbs.map((v) => `${group || 'core'}/${resource}:${v}${name ? `@${name}` : ''}`);
const CLUSTER_NEEDS = [
  ...rule('', 'services', ['get', 'list', 'watch', 'patch']), // informer; addFinalizer/removeFinalizer read + JSON patch
  ...rule('', 'services/status', ['patch']), // patchServiceStatusIngress (merge patch)
  ...rule('discovery.k8s.io', 'endpointslices', ['list', 'watch']), // informer
  ...rule('', 'nodes', ['list', 'watch', 'patch']), // informer; node controller's mergePatchMetadata
  ...rule('', 'pods', ['list', 'watch', 'patch']), // informer; the ENI pool's mergePatchMetadata (vpc.amazonaws.com/pod-ips)
  ...rule('', 'events', ['create', 'patch']), // kube/events.ts
  ...rule('apiextensions.k8s.io', 'customresourcedefinitions', ['create']), // ensureEniPoolCrd
  ...rule('apiextensions.k8s.io', 'customresourcedefinitions', ['get'], 'enipools.cloud-provider-localstack.io'), // ensureEniPoolCrd
  ...rule('cloud-provider-localstack.io', 'enipools', ['list', 'create', 'delete']), // EniPoolStore list/writeStatus/delete
  ...rule('cloud-provider-localstack.io', 'enipools/status', ['patch']), // EniPoolStore.writeStatus
].sort();
const LEASE_NAME = 'cloud-provider-localstack';
const NAMESPACE_NEEDS = [...rule('coordination.k8s.io', 'leases', ['create']), ...rule('coordination.k8s.io', 'leases', ['get', 'update'], LEASE_NAME)].sort();

const granted = (rules: V1PolicyRule[] = []) =>
  rules
    .flatMap((r) =>
      (r.apiGroups ?? ['']).flatMap((g) =>
        (r.resources ?? []).flatMap((res) => (r.resourceNames?.length ? r.resourceNames.flatMap((n) => rule(g, res, r.verbs, n)) : rule(g, res, r.verbs))),
      ),
    )
    .sort();

/** Env vars of flags that are being added to `run` (leader election, metrics and health servers). */
const PENDING_RUN_ENV = new Set<string>();

describe('manifests (kustomize base)', () => {
  let env: TestEnvironment;
  let api: ObjectApi;
  let authz: AuthorizationV1Api;
  let ns: { name: string; remove: () => Promise<void> };
  const clusterObjects: Obj[] = [];

  /**
   * The object as kustomize renders it (namespaced objects get the kustomization's namespace, which the first test
   * checks they already have), then moved into the throwaway namespace, ServiceAccount subjects included.
   */
  async function intoTestNamespace<T extends Obj>(object: T): Promise<T> {
    const copy = structuredClone(object);
    if (await api.namespaced(copy)) copy.metadata.namespace = ns.name;
    const subjects = (copy as unknown as V1RoleBinding).subjects;
    for (const subject of subjects ?? []) if (subject.kind === 'ServiceAccount') subject.namespace = ns.name;
    return copy;
  }

  const apply = <T extends Obj>(object: T, dryRun: boolean) => api.patch(object, undefined, dryRun ? 'All' : undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

  beforeAll(async () => {
    env = connect();
    api = env.kubeconfig.makeApiClient(ObjectApi);
    authz = env.kubeconfig.makeApiClient(AuthorizationV1Api);
    ns = await createTestNamespace(env.core, 'manifests');
    // The namespace enforces what manifests/namespace.yaml enforces, so the Pod dry run below meets the same admission.
    const podSecurity = one<Obj>('Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce'];
    if (podSecurity) {
      await env.core.patchNamespace(
        { name: ns.name, body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': podSecurity } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  });

  afterAll(async () => {
    for (const object of clusterObjects) await api.delete(object).catch(() => undefined);
    await ns?.remove();
    env?.close();
  });

  it('the kustomization lists files that exist and sets the namespace', () => {
    expect(kustomization.namespace).toBe('cloud-provider-localstack');
    for (const file of kustomization.resources) expect(statSync(join(MANIFESTS, file)).isFile(), file).toBe(true);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    expect(one<Obj>('Namespace').metadata.name).toBe(NAMESPACE);
    for (const object of resources) {
      if (!CLUSTER_SCOPED.has(object.kind!)) expect(object.metadata.namespace ?? NAMESPACE, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
    }
  });

  describe('server-side dry run', () => {
    it.each([...resources, ...secretExample].map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))('%s is accepted', async (_name, object) => {
      const rendered = await intoTestNamespace(object);
      const answer = await apply(rendered, true);
      expect(answer.kind).toBe(object.kind);
      expect(answer.metadata?.name).toBe(object.metadata.name);
      // A Secret's stringData comes back as data.
      const { stringData, ...sent } = rendered as unknown as V1Secret & Record<string, unknown>;
      expect(missingFields(sent, answer)).toEqual([]);
      if (stringData) {
        const data = (answer as V1Secret).data ?? {};
        expect(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))).toEqual(stringData);
      }
    });

    it("the Deployment's pod passes the namespace's Pod Security admission", async () => {
      // Pod admission needs the ServiceAccount to exist.
      await apply(await intoTestNamespace(one<Obj>('ServiceAccount')), false);
      const deployment = await intoTestNamespace(one<V1Deployment & Obj>('Deployment'));
      const template = deployment.spec!.template;
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: uniqueName('pod'), namespace: ns.name, labels: template.metadata?.labels }, spec: template.spec };
      const answer = await api.create(pod, undefined, 'All', FIELD_MANAGER);
      expect(answer.metadata?.name).toBe(pod.metadata.name);
    });
  });

  describe('RBAC', () => {
    const clusterRole = () => one<V1ClusterRole & Obj>('ClusterRole');
    const role = () => one<V1Role & Obj>('Role');

    it('grants exactly what the code uses, with no wildcards', () => {
      for (const r of [...(clusterRole().rules ?? []), ...(role().rules ?? [])]) {
        for (const value of [...r.verbs, ...(r.resources ?? []), ...(r.apiGroups ?? []), ...(r.resourceNames ?? [])]) expect(value).not.toContain('*');
        expect(r.nonResourceURLs ?? []).toEqual([]);
        for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection']) expect(r.verbs).not.toContain(verb);
        if (r.verbs.includes('delete')) expect(r.resources, 'delete only of ENIPools').toEqual(['enipools']);
      }
      expect(clusterRole().aggregationRule).toBeUndefined();
      expect(granted(clusterRole().rules)).toEqual(CLUSTER_NEEDS);
      expect(granted(clusterRole().rules)).toContain('core/services/status:patch');
      // Leases only through the namespaced Role: never cluster-wide.
      expect(granted(role().rules)).toEqual(NAMESPACE_NEEDS);
    });

    it('binds both roles to the ServiceAccount the Deployment runs as', () => {
      const sa = one<Obj>('ServiceAccount');
      const deployment = one<V1Deployment & Obj>('Deployment');
      expect(deployment.spec?.template.spec?.serviceAccountName).toBe(sa.metadata.name);
      const subject = { kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE };
      const crb = one<V1ClusterRoleBinding & Obj>('ClusterRoleBinding');
      expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole().metadata.name });
      expect(crb.subjects).toEqual([subject]);
      const rb = one<V1RoleBinding & Obj>('RoleBinding');
      expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role().metadata.name });
      expect(rb.subjects).toEqual([subject]);
      // The Lease the Role names is the one the Deployment elects on.
      const leaseName = deployment.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'CPL_LEADER_ELECTION_NAME')?.value;
      expect(leaseName).toBe(LEASE_NAME);
    });

    it('the real authorizer allows what the code needs and refuses the rest', async () => {
      // The roles for real, renamed so they cannot collide with an installed copy; bound to the SA in the test namespace.
      const suffix = uniqueName('x').slice(2);
      const cr = await intoTestNamespace(clusterRole());
      cr.metadata.name = `${cr.metadata.name}-test-${suffix}`;
      const crb = await intoTestNamespace(one<V1ClusterRoleBinding & Obj>('ClusterRoleBinding'));
      crb.metadata.name = cr.metadata.name;
      crb.roleRef.name = cr.metadata.name;
      clusterObjects.push(cr, crb);
      for (const object of [cr, crb, await intoTestNamespace(one<Obj>('ServiceAccount')), await intoTestNamespace(role()), await intoTestNamespace(one<Obj>('RoleBinding'))]) {
        await apply(object, false);
      }

      const sa = one<Obj>('ServiceAccount').metadata.name;
      const can = async (attributes: V1ResourceAttributes): Promise<boolean> => {
        const review = await authz.createSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: `system:serviceaccount:${ns.name}:${sa}`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${ns.name}`, 'system:authenticated'],
              resourceAttributes: attributes,
            },
          },
        });
        return review.status?.allowed === true;
      };
      const parse = (entry: string): V1ResourceAttributes => {
        const [gr, rest] = entry.split(':') as [string, string];
        const [verb, name] = rest.split('@') as [string, string | undefined];
        const [g, ...res] = gr.split('/');
        const [plural, subresource] = res as [string, string | undefined];
        return { group: g === 'core' ? '' : g, resource: plural, verb, ...(subresource ? { subresource } : {}), ...(name ? { name } : {}) };
      };

      // RBAC caches bindings: wait until the first need is visible.
      await waitFor(() => can({ group: '', resource: 'services', verb: 'list' }), { description: 'the ClusterRoleBinding to take effect' });
      await waitFor(() => can({ group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: ns.name }), { description: 'the RoleBinding to take effect' });

      const refused: string[] = [];
      for (const need of CLUSTER_NEEDS) if (!(await can({ ...parse(need), namespace: 'default' }))) refused.push(need);
      for (const need of NAMESPACE_NEEDS) if (!(await can({ ...parse(need), namespace: ns.name }))) refused.push(need);
      expect(refused, 'needed but refused').toEqual([]);

      const mustRefuse: [string, V1ResourceAttributes][] = [
        ['read Secrets', { group: '', resource: 'secrets', verb: 'get', namespace: ns.name }],
        ['list Secrets', { group: '', resource: 'secrets', verb: 'list' }],
        ['read ConfigMaps', { group: '', resource: 'configmaps', verb: 'get', namespace: 'default' }],
        ['create Services', { group: '', resource: 'services', verb: 'create', namespace: 'default' }],
        ['delete Services', { group: '', resource: 'services', verb: 'delete', namespace: 'default' }],
        ['update Services', { group: '', resource: 'services', verb: 'update', namespace: 'default' }],
        ['delete Nodes', { group: '', resource: 'nodes', verb: 'delete' }],
        ['delete Pods', { group: '', resource: 'pods', verb: 'delete', namespace: 'default' }],
        ['create Pods', { group: '', resource: 'pods', verb: 'create', namespace: 'default' }],
        ['evict Pods', { group: '', resource: 'pods', verb: 'create', subresource: 'eviction', namespace: 'default' }],
        ['delete Events', { group: '', resource: 'events', verb: 'delete', namespace: 'default' }],
        ['change EndpointSlices', { group: 'discovery.k8s.io', resource: 'endpointslices', verb: 'patch', namespace: 'default' }],
        ['read another CRD', { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'get', name: 'widgets.example.com' }],
        ['patch our CRD', { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'patch', name: 'enipools.cloud-provider-localstack.io' }],
        ['delete our CRD', { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'delete', name: 'enipools.cloud-provider-localstack.io' }],
        ['list CRDs', { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'list' }],
        ['delete all ENIPools at once', { group: 'cloud-provider-localstack.io', resource: 'enipools', verb: 'deletecollection' }],
        ['replace an ENIPool status', { group: 'cloud-provider-localstack.io', resource: 'enipools', subresource: 'status', verb: 'update' }],
        ['replace a Service status', { group: '', resource: 'services', subresource: 'status', verb: 'update', namespace: 'default' }],
        ['patch Node status', { group: '', resource: 'nodes', subresource: 'status', verb: 'patch' }],
        ['a Lease in another namespace', { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', name: LEASE_NAME, namespace: 'default' }],
        ['create a Lease in another namespace', { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: 'default' }],
        ['update another Lease', { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', name: 'kube-scheduler', namespace: ns.name }],
        ['delete our Lease', { group: 'coordination.k8s.io', resource: 'leases', verb: 'delete', name: LEASE_NAME, namespace: ns.name }],
        ['create Deployments', { group: 'apps', resource: 'deployments', verb: 'create', namespace: ns.name }],
        ['mint ServiceAccount tokens', { group: '', resource: 'serviceaccounts', verb: 'create', subresource: 'token', namespace: ns.name }],
        ['escalate ClusterRoles', { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate' }],
        ['bind ClusterRoles', { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'bind' }],
        ['impersonate', { group: '', resource: 'users', verb: 'impersonate' }],
      ];
      const allowed: string[] = [];
      for (const [what, attributes] of mustRefuse) if (await can(attributes)) allowed.push(what);
      expect(allowed, 'allowed but not needed').toEqual([]);
    });
  });

  describe('Deployment', () => {
    const deployment = () => one<V1Deployment & Obj>('Deployment');
    const container = () => deployment().spec!.template.spec!.containers[0]!;

    it('runs two hardened replicas of `run` with probes on the health port', () => {
      const spec = deployment().spec!;
      expect(spec.replicas).toBe(2);
      const c = container();
      expect(c.args).toEqual(['run']);
      expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'health' });
      expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'health' });
      expect(c.ports?.find((p) => p.name === 'health')?.containerPort).toBe(8081);
      expect(c.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(8080);
      expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } });
      expect(spec.template.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
      expect(env).toMatchObject({
        CPL_LEADER_ELECT: 'true',
        CPL_LEADER_ELECTION_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
        CPL_METRICS_ADDRESS: '0.0.0.0:8080',
        CPL_HEALTH_ADDRESS: '0.0.0.0:8081',
      });
      expect(spec.template.spec?.topologySpreadConstraints?.length ?? 0).toBeGreaterThan(0);
      expect(spec.template.spec?.affinity?.podAntiAffinity).toBeDefined();
    });

    it('a PodDisruptionBudget keeps one replica', () => {
      const pdb = one<V1PodDisruptionBudget & Obj>('PodDisruptionBudget');
      expect(pdb.spec?.minAvailable).toBe(1);
      const labels = deployment().spec!.template.metadata!.labels!;
      for (const [key, value] of Object.entries(pdb.spec?.selector?.matchLabels ?? {})) expect(labels[key]).toBe(value);
    });

    it('takes AWS settings from the Secret and the cluster name from the ConfigMap, under names `run` reads', () => {
      const envFrom = container().envFrom ?? [];
      const secret = secretExample[0] as V1Secret & Obj;
      const configMap = one<V1ConfigMap & Obj>('ConfigMap');
      expect(envFrom.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([secret.metadata.name]);
      expect(envFrom.map((e) => e.configMapRef?.name).filter(Boolean)).toEqual([configMap.metadata.name]);
      expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_SECRET_ACCESS_KEY']);
      expect(secret.stringData?.AWS_ENDPOINT_URL).toBe('http://moto:4566');
      expect(configMap.data?.CPL_CLUSTER_NAME).toBeTruthy();

      const program = new Command();
      registerRunCommand(program);
      const run = program.commands.find((c) => c.name() === 'run')!;
      // Credentials are read from the environment directly (managerConfig), not through a flag.
      const known = new Set([...run.options.map((o) => o.envVar).filter((v): v is string => !!v), 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
      const used = [...Object.keys(configMap.data ?? {}), ...Object.keys(secret.stringData ?? {}), ...(container().env ?? []).map((e) => e.name)].filter((n) => /^(CPL|AWS)_/.test(n));
      expect(used.filter((name) => !known.has(name) && !PENDING_RUN_ENV.has(name)), 'env vars `run` does not read').toEqual([]);
    });
  });
});

describe('docs/iam-policy.json', () => {
  const policy = JSON.parse(readFileSync(join(ROOT, 'docs', 'iam-policy.json'), 'utf8')) as {
    Statement: { Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }[];
  };
  const actions = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

  /** `new XCommand(` in src/cloud and src/controllers, mapped to IAM actions by the SDK package it is imported from. */
  function sentByTheController(): Set<string> {
    const prefixes: Record<string, string> = { ec2: 'ec2', 'elastic-load-balancing-v2': 'elasticloadbalancing' };
    const files = ['src/cloud', 'src/controllers'].flatMap(function walk(dir: string): string[] {
      return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    });
    const sent = new Set<string>();
    for (const file of files) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const origin = new Map<string, string>();
      for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
        for (const name of m[1]!.split(',').map((s) => s.replace(/^\s*type\s+/, '').trim())) origin.set(name, m[2]!);
      }
      for (const m of source.matchAll(/new\s+(\w+)Command\(/g)) {
        const pkg = origin.get(`${m[1]}Command`);
        if (pkg) sent.add(`${prefixes[pkg] ?? pkg}:${m[1]}`);
      }
    }
    return sent;
  }

  it('allows every AWS call the controllers make', () => {
    const sent = sentByTheController();
    expect(sent.size).toBeGreaterThan(10);
    expect([...sent].filter((a) => !actions.has(a)).sort()).toEqual([]);
  });

  it('allows nothing else but tag-on-create and the ELB service-linked role', () => {
    // Tags given to a Create call need the tagging permission too; the first NLB of an account creates ELB's role.
    const implied = ['elasticloadbalancing:AddTags', 'ec2:CreateTags', 'iam:CreateServiceLinkedRole'];
    const allowed = new Set([...sentByTheController(), ...implied]);
    expect([...actions].filter((a) => !allowed.has(a)).sort()).toEqual([]);
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const action of Array.isArray(statement.Action) ? statement.Action : [statement.Action]) expect(action).not.toContain('*');
    }
  });

  it('scopes creates by request tag and deletes and changes by resource tag', () => {
    const conditionOf = (action: string) => policy.Statement.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action)).map((s) => JSON.stringify(s.Condition ?? {}));
    for (const action of ['CreateLoadBalancer', 'CreateTargetGroup']) {
      expect(conditionOf(`elasticloadbalancing:${action}`).every((c) => c.includes('aws:RequestTag/elbv2.k8s.aws/cluster'))).toBe(true);
    }
    for (const action of ['DeleteLoadBalancer', 'DeleteTargetGroup', 'ModifyLoadBalancerAttributes', 'ModifyTargetGroup', 'ModifyTargetGroupAttributes', 'RegisterTargets', 'DeregisterTargets']) {
      expect(conditionOf(`elasticloadbalancing:${action}`).every((c) => c.includes('aws:ResourceTag/elbv2.k8s.aws/cluster')), action).toBe(true);
    }
    // Security groups (ADR 0013): created only with our cluster tag, deleted only when they carry it.
    expect(conditionOf('ec2:CreateSecurityGroup').some((c) => c.includes('aws:RequestTag/elbv2.k8s.aws/cluster'))).toBe(true);
    expect(conditionOf('ec2:DeleteSecurityGroup').every((c) => c.includes('aws:ResourceTag/elbv2.k8s.aws/cluster'))).toBe(true);
    expect(conditionOf('elasticloadbalancing:SetSecurityGroups').every((c) => c.includes('aws:ResourceTag/elbv2.k8s.aws/cluster'))).toBe(true);
    expect(conditionOf('ec2:TerminateInstances').every((c) => c.includes('aws:ResourceTag/cloud-provider-localstack/node'))).toBe(true);
    expect(conditionOf('ec2:DeleteNetworkInterface').every((c) => c.includes('aws:ResourceTag/cluster.k8s.amazonaws.com/name'))).toBe(true);
    // Tags are added after creation only to listeners (as the LBC's policy allows): ones made before they were tagged.
    const tagsAfterCreate = policy.Statement.filter((s) => s.Action === 'elasticloadbalancing:AddTags' && !JSON.stringify(s.Condition ?? {}).includes('CreateAction'));
    expect(tagsAfterCreate.map((s) => s.Resource)).toEqual(['arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*']);
    expect(conditionOf('ec2:CreateTags').every((c) => c.includes('CreateAction'))).toBe(true);
  });
});
