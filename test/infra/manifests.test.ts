import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildDaemonSetCrd } from '../../lib/manifests/crd.js';
import { GENERATED_DIR, WEBHOOK_URL_PLACEHOLDER, generatedFiles } from '../../infra/manifests/generate.js';
import { buildRbac, controllerRules } from '../../lib/manifests/rbac.js';
import { buildManifests, renderFromArgs, renderManifests } from '../../lib/manifests/render.js';
import { buildWebhookConfiguration, checkWebhookUrl } from '../../lib/manifests/webhook.js';

const URL = 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/hook/0123456789abcdefABCDEF';

type Obj = Record<string, unknown>;
const at = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], o);

describe('RBAC', () => {
  it.each(['native', 'crd'] as const)('%s: grants what the controller uses, like upstream\'s daemon-set-controller role', (mode) => {
    const group = mode === 'native' ? 'apps' : 'daemonless.io';
    expect(controllerRules(mode)).toEqual([
      { apiGroups: [group], resources: ['daemonsets'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: [group], resources: ['daemonsets/status'], verbs: ['get', 'update', 'patch'] },
      { apiGroups: [group], resources: ['daemonsets/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
      { apiGroups: ['apps'], resources: ['controllerrevisions'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
  });

  it('has no wildcard and never grants escalation verbs or secrets', () => {
    for (const mode of ['native', 'crd'] as const) {
      for (const obj of buildRbac({ managedResource: mode }).filter((o) => o.kind === 'ClusterRole')) {
        for (const rule of obj.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
          for (const value of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) expect(value).not.toContain('*');
          expect(rule.verbs).not.toEqual(expect.arrayContaining(['escalate']));
          expect(rule.verbs).not.toEqual(expect.arrayContaining(['bind']));
          expect(rule.verbs).not.toEqual(expect.arrayContaining(['impersonate']));
          expect(rule.resources).not.toContain('secrets');
        }
      }
    }
  });

  it('binds the controller role to group daemonless:controller and the list-only resync role to daemonless:resync', () => {
    const objects = buildRbac({ managedResource: 'crd', controllerUsers: ['daemonless'] });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ClusterRole/daemonless-controller', 'ClusterRoleBinding/daemonless-controller',
      'ClusterRole/daemonless-resync', 'ClusterRoleBinding/daemonless-resync',
    ]);
    expect(objects[1]).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'daemonless-controller' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'daemonless:controller' },
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'daemonless' },
      ],
    });
    expect(objects[2]!.rules).toEqual([{ apiGroups: ['daemonless.io'], resources: ['daemonsets'], verbs: ['list'] }]);
    expect(objects[3]).toMatchObject({ subjects: [{ kind: 'Group', name: 'daemonless:resync' }] });
  });
});

describe('ValidatingWebhookConfiguration', () => {
  const native = buildWebhookConfiguration({ managedResource: 'native', url: URL });
  const webhook = at(native, 'webhooks', 0) as Obj;

  it('can never block the cluster', () => {
    expect(webhook).toMatchObject({
      name: 'events.daemonless.io',
      admissionReviewVersions: ['v1'],
      clientConfig: { url: URL },
      sideEffects: 'NoneOnDryRun',
      failurePolicy: 'Ignore',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 3,
    });
    expect(webhook.namespaceSelector).toBeUndefined();
    expect(webhook.objectSelector).toBeUndefined();
  });

  it.each([
    ['native', 'apps'],
    ['crd', 'daemonless.io'],
  ] as const)('%s: watches %s daemonsets, pods, pods/status, nodes and nodes/status on every write', (mode, group) => {
    const rules = at(buildWebhookConfiguration({ managedResource: mode, url: URL }), 'webhooks', 0, 'rules');
    const ops = ['CREATE', 'UPDATE', 'DELETE'];
    expect(rules).toEqual([
      { apiGroups: [group], apiVersions: ['v1'], operations: ops, resources: ['daemonsets'], scope: 'Namespaced' },
      { apiGroups: [''], apiVersions: ['v1'], operations: ops, resources: ['pods', 'pods/status'], scope: 'Namespaced' },
      { apiGroups: [''], apiVersions: ['v1'], operations: ops, resources: ['nodes', 'nodes/status'], scope: 'Cluster' },
    ]);
  });

  it('filters noise with match conditions: the controller\'s own writes, foreign pods, heartbeat-only node updates', () => {
    const conditions = webhook.matchConditions as { name: string; expression: string }[];
    expect(conditions.map((c) => c.name)).toEqual(['not-from-controller-group', 'daemon-or-orphan-pods', 'relevant-node-updates']);
    expect(conditions[0]!.expression).toContain("['daemonless:controller']");
    expect(conditions[1]!.expression).toContain("r.apiVersion.startsWith('apps/')");
    expect(at(buildWebhookConfiguration({ managedResource: 'crd', url: URL }), 'webhooks', 0, 'matchConditions', 1, 'expression'))
      .toContain("r.apiVersion.startsWith('daemonless.io/')");
    for (const { expression } of conditions) {
      expect(expression.split('(').length).toBe(expression.split(')').length);
    }
  });

  it('excludes the controller\'s kubeconfig users too', () => {
    const conditions = at(buildManifests({ managedResource: 'native', webhookUrl: URL, controllerUsers: ['dl'], parts: ['webhook'] })[0],
      'webhooks', 0, 'matchConditions') as { name: string; expression: string }[];
    expect(conditions.find((c) => c.name === 'not-from-controller-user')?.expression).toBe("!(request.userInfo.username in ['dl'])");
  });

  it('rejects URLs the API server would reject, reporting every problem', () => {
    expect(checkWebhookUrl(URL)).toEqual([]);
    expect(checkWebhookUrl('http://user:pw@example.com/hook?x=1#f')).toEqual([
      'webhook URL must use https',
      'webhook URL must not contain user info',
      'webhook URL must not contain a query',
      'webhook URL must not contain a fragment',
    ]);
    expect(() => buildWebhookConfiguration({ managedResource: 'native', url: 'http://x/?a', timeoutSeconds: 31 }))
      .toThrow(/https[\s\S]*query[\s\S]*timeoutSeconds must be an integer from 1 to 30/);
  });
});

describe('DaemonSet CRD', () => {
  const crd = buildDaemonSetCrd() as Obj;
  const version = at(crd, 'spec', 'versions', 0) as Obj;
  const schema = at(version, 'schema', 'openAPIV3Schema') as Obj;
  const spec = at(schema, 'properties', 'spec', 'properties') as Obj;

  it('defines daemonsets.daemonless.io, namespaced, short name dlds, v1 served and stored with a status subresource', () => {
    expect(crd.metadata).toMatchObject({ name: 'daemonsets.daemonless.io' });
    expect(crd.spec).toMatchObject({
      group: 'daemonless.io',
      scope: 'Namespaced',
      names: { kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', listKind: 'DaemonSetList', shortNames: ['dlds'] },
    });
    expect(at(crd, 'spec', 'versions')).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1', served: true, storage: true, subresources: { status: {} } });
  });

  it('prints the columns of kubectl get ds, and those of kubectl get ds -o wide with priority 1', () => {
    const columns = version.additionalPrinterColumns as { name: string; jsonPath: string; priority?: number }[];
    expect(columns.map((c) => [c.name.toUpperCase(), c.jsonPath, c.priority ?? 0])).toEqual([
      ['DESIRED', '.status.desiredNumberScheduled', 0],
      ['CURRENT', '.status.currentNumberScheduled', 0],
      ['READY', '.status.numberReady', 0],
      ['UP-TO-DATE', '.status.updatedNumberScheduled', 0],
      ['AVAILABLE', '.status.numberAvailable', 0],
      ['NODE SELECTOR', '.spec.template.spec.nodeSelector', 0],
      ['AGE', '.metadata.creationTimestamp', 0],
      ['CONTAINERS', '.spec.template.spec.containers[*].name', 1],
      ['IMAGES', '.spec.template.spec.containers[*].image', 1],
      ['SELECTOR', '.spec.selector', 1],
    ]);
  });

  it('mirrors the apps/v1 spec with its defaults', () => {
    expect(at(schema, 'properties', 'spec', 'required')).toEqual(['selector', 'template']);
    // CRD-1: the template is typed by the generated PodTemplateSpec schema, not passed through unchecked.
    expect(spec.template).toMatchObject({ type: 'object', properties: { metadata: { type: 'object' }, spec: { type: 'object', required: ['containers'] } } });
    expect(spec.template).not.toHaveProperty('x-kubernetes-preserve-unknown-fields');
    expect(at(spec, 'updateStrategy', 'default')).toEqual({});
    expect(at(spec, 'updateStrategy', 'properties', 'type')).toEqual({ type: 'string', enum: ['RollingUpdate', 'OnDelete'], default: 'RollingUpdate' });
    const rolling = at(spec, 'updateStrategy', 'properties', 'rollingUpdate') as Obj;
    expect(rolling.default).toEqual({});
    expect(at(rolling, 'properties', 'maxUnavailable')).toMatchObject({ 'x-kubernetes-int-or-string': true, default: 1 });
    expect(at(rolling, 'properties', 'maxSurge')).toMatchObject({ 'x-kubernetes-int-or-string': true, default: 0 });
    expect(spec.revisionHistoryLimit).toMatchObject({ type: 'integer', format: 'int32', minimum: 0, default: 10 });
    expect(spec.minReadySeconds).toMatchObject({ type: 'integer', format: 'int32', minimum: 0, default: 0 });
    expect(at(spec, 'selector', 'x-kubernetes-validations', 0)).toEqual({ rule: 'self == oldSelf', message: 'field is immutable' });
  });

  it('carries the rollout controls: paused, partition >= 0, a node selector, autoPause, progressDeadlineSeconds >= 1', () => {
    const rolling = at(spec, 'updateStrategy', 'properties', 'rollingUpdate', 'properties') as Obj;
    expect(rolling.paused).toMatchObject({ type: 'boolean' });
    expect(rolling.autoPause).toMatchObject({ type: 'boolean' });
    expect(rolling.partition).toMatchObject({ type: 'integer', format: 'int32', minimum: 0 });
    expect(rolling.selector).toMatchObject({ type: 'object', properties: { matchLabels: { type: 'object' }, matchExpressions: { type: 'array' } } });
    expect(rolling.selector).not.toHaveProperty('x-kubernetes-validations');
    expect(spec.progressDeadlineSeconds).toMatchObject({ type: 'integer', format: 'int32', minimum: 1 });
  });

  it('CRD-2 checks at admission, with CEL, what apps/v1 validation checks (API-2..4)', () => {
    const messages = (o: unknown) => ((o as Obj | undefined)?.['x-kubernetes-validations'] as { message: string; fieldPath?: string }[] | undefined ?? [])
      .map((r) => `${r.fieldPath ?? ''} ${r.message}`);
    expect(messages(at(schema, 'properties', 'spec'))).toEqual(['.template.metadata.labels `selector` does not match template `labels`']);
    expect(messages(spec.selector)).toEqual([' field is immutable', ' empty selector is invalid for daemonset']);
    expect(messages(at(spec, 'template', 'properties', 'spec'))).toEqual([
      '.containers must have at least one container',
      '.restartPolicy Unsupported value: supported values: "Always"',
      '.activeDeadlineSeconds activeDeadlineSeconds in DaemonSet is not Supported',
    ]);
    expect(messages(spec.updateStrategy)).toEqual([
      ".rollingUpdate.maxUnavailable must be a non-negative integer or a percentage: a numeric string followed by an ending '%' (e.g. '5%')",
      '.rollingUpdate.maxUnavailable must not be greater than 100%',
      ".rollingUpdate.maxSurge must be a non-negative integer or a percentage: a numeric string followed by an ending '%' (e.g. '5%')",
      '.rollingUpdate.maxSurge must not be greater than 100%',
      '.rollingUpdate.maxUnavailable cannot be 0 when maxSurge is 0',
      '.rollingUpdate.maxSurge may not be set when maxUnavailable is non-zero',
    ]);
    // apps/v1 checks the budgets of RollingUpdate only.
    for (const r of (spec.updateStrategy as Obj)['x-kubernetes-validations'] as { rule: string }[]) expect(r.rule).toMatch(/^!has\(self\.type\) \|\| self\.type != 'RollingUpdate'/);
  });

  it('mirrors the apps/v1 status', () => {
    const status = at(schema, 'properties', 'status', 'properties') as Obj;
    expect(Object.keys(status).sort()).toEqual([
      'collisionCount', 'conditions', 'currentNumberScheduled', 'desiredNumberScheduled', 'numberAvailable',
      'numberMisscheduled', 'numberReady', 'numberUnavailable', 'observedGeneration', 'updatedNumberScheduled',
    ]);
    expect(status.observedGeneration).toMatchObject({ type: 'integer', format: 'int64' });
    expect(status.conditions).toMatchObject({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it('is a structural schema: every node has a type, or is int-or-string or preserves unknown fields', () => {
    const untyped: string[] = [];
    const walk = (node: Obj, path: string): void => {
      if (node.type === undefined && node['x-kubernetes-int-or-string'] !== true && node['x-kubernetes-preserve-unknown-fields'] !== true) {
        untyped.push(path);
      }
      for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Obj>)) walk(child, `${path}.${key}`);
      if (node.items !== undefined) walk(node.items as Obj, `${path}[]`);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Obj, `${path}{}`);
    };
    walk(schema, '');
    expect(untyped).toEqual([]);
  });
});

describe('renderManifests()', () => {
  it('renders multi-document YAML in apply order: CRD, RBAC, webhook', () => {
    const docs = parseAllDocuments(renderManifests({ managedResource: 'crd', webhookUrl: URL }));
    expect(docs.map((d) => d.errors)).toEqual(docs.map(() => []));
    expect(docs.map((d) => `${d.get('kind') as string}/${d.getIn(['metadata', 'name']) as string}`)).toEqual([
      'CustomResourceDefinition/daemonsets.daemonless.io',
      'ClusterRole/daemonless-controller', 'ClusterRoleBinding/daemonless-controller',
      'ClusterRole/daemonless-resync', 'ClusterRoleBinding/daemonless-resync',
      'ValidatingWebhookConfiguration/daemonless-events',
    ]);
    expect(docs[5]!.toJS()).toEqual(buildWebhookConfiguration({ managedResource: 'crd', url: URL }));
  });

  it('leaves the CRD out in native mode and the webhook out when asked', () => {
    const kinds = (yamlText: string) => parseAllDocuments(yamlText).map((d) => d.get('kind'));
    expect(kinds(renderManifests({ managedResource: 'native', webhookUrl: URL }))).not.toContain('CustomResourceDefinition');
    expect(kinds(renderManifests({ managedResource: 'crd', parts: ['crd', 'rbac'] }))).not.toContain('ValidatingWebhookConfiguration');
    expect(() => renderManifests({ managedResource: 'crd' })).toThrow(/webhookUrl is required/);
  });

  it('works from command-line arguments', () => {
    expect(renderFromArgs(['--managed-resource', 'crd', '--webhook-url', URL]))
      .toBe(renderManifests({ managedResource: 'crd', webhookUrl: URL }));
    expect(renderFromArgs(['--managed-resource', 'native']))
      .toBe(renderManifests({ managedResource: 'native', parts: ['crd', 'rbac'] }));
    expect(() => renderFromArgs(['--managed-resource', 'apps'])).toThrow(/native or crd/);
    expect(() => renderFromArgs(['--managed-resource', 'crd', '--parts', 'crd,secrets'])).toThrow(/--parts/);
  });
});

describe('infra/manifests/generated', () => {
  it('is up to date with the generator (run `npx tsx infra/manifests/generate.ts`)', () => {
    const expected = generatedFiles();
    expect(readdirSync(GENERATED_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, content] of Object.entries(expected)) {
      expect(readFileSync(join(GENERATED_DIR, name), 'utf8'), name).toBe(content);
    }
  });

  it('holds the URL placeholder in the webhook files only', () => {
    for (const [name, content] of Object.entries(generatedFiles())) {
      expect(content.includes(WEBHOOK_URL_PLACEHOLDER), name).toBe(name.startsWith('webhook-'));
      const docs = parseAllDocuments(content);
      expect(docs.flatMap((d) => d.errors)).toEqual([]);
    }
    const webhook = parseAllDocuments(generatedFiles()['webhook-crd.yaml']!)[0]!.toJS() as Obj;
    expect(at(webhook, 'webhooks', 0, 'clientConfig', 'url')).toBe(WEBHOOK_URL_PLACEHOLDER);
  });
});
