/**
 * infra/DEPLOY.md is a runbook: its commands read stack outputs, run npm scripts, set context keys and
 * name metrics, alarms and files. Every one of those must exist, and every output, setting and metric
 * the stack has must be documented. Also: LICENSE, CHANGELOG and the version agree with package.json,
 * and the compatibility table with what the project pins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';
import { KNOWN_KEYS } from '../../infra/config.js';
import { RUNTIME } from '../../infra/constructs/defaults.js';
import { METRIC } from '../../lib/observability/ports.js';
import { FULL_CONTEXT, synth } from './support.js';

const read = (path: string): string => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const doc = read('infra/DEPLOY.md');
const pkg = JSON.parse(read('package.json')) as {
  version: string; license: string; scripts: Record<string, string>; devDependencies: Record<string, string>; dependencies: Record<string, string>;
};

/** The rows of the markdown table under `heading` (first cells, backticks removed, split at commas). */
function tableNames(heading: string): string[] {
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`DEPLOY.md has no "${heading}"`);
  const lines = doc.slice(start).split('\n').slice(1);
  const rows: string[] = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith('|')) {
      inTable = true;
      const first = line.split('|')[1]!.trim();
      if (/^-+$/.test(first) || rows.length === 0 && !first.includes('`')) continue;
      rows.push(...[...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    } else if (inTable) {
      break;
    }
  }
  return rows;
}

const all = (re: RegExp): string[] => [...new Set([...doc.matchAll(re)].map((m) => m[1]!))];

// Every output any configuration has: the default stack (kubeconfig, alarm topic) and the full one (EKS, VPC, e-mail).
const templates = [synth().json, synth(FULL_CONTEXT).json];
const outputs = new Set(templates.flatMap((t) => Object.keys(t.Outputs ?? {})));

describe('infra/DEPLOY.md', () => {
  it('reads only stack outputs that exist, through $(out NAME)', () => {
    const used = all(/\$\(out ([A-Za-z]+)\)/g);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !outputs.has(name))).toEqual([]);
    for (const name of ['DeadLetterQueueArn', 'ReconcileQueueArn', 'DelayDeadLetterQueueArn', 'DelayQueueArn', 'WebhookTokenSecretArn', 'AlarmTopicArn']) {
      expect(used).toContain(name);
    }
  });

  it('lists exactly the stack outputs in its outputs table', () => {
    expect(tableNames('### Stack outputs').sort()).toEqual([...outputs].sort());
  });

  it('runs only npm scripts that package.json has', () => {
    const scripts = all(/\bnpm run (?:--silent )?([\w:-]+)/g);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((s) => pkg.scripts[s] === undefined)).toEqual([]);
  });

  it('sets only context keys the app knows, and documents every one', () => {
    const used = all(/\bdaemonless:([A-Za-z]+)=/g);
    expect(used.filter((k) => !(KNOWN_KEYS as readonly string[]).includes(k))).toEqual([]);
    const table = tableNames('| Key | Default | Meaning |');
    expect(table.sort()).toEqual([...KNOWN_KEYS].sort());
  });

  it('documents exactly the metrics the functions emit', () => {
    expect(tableNames('#### Metrics').sort()).toEqual(Object.values(METRIC).sort());
  });

  it('names only alarms the stack has', () => {
    const alarms = tableNames('#### Alarms and where they go');
    expect(alarms).toContain('TerminalReconcileFailures');
    const ids = Object.entries(templates[0]!.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(alarms).toHaveLength(ids.length);
    for (const name of alarms) expect(ids.filter((id) => id.startsWith(`ControllerAlarms${name}`))).toHaveLength(1);
  });

  it('names only repository files that exist', () => {
    const paths = all(/\b((?:infra|lib|lambdas|test|bin)\/[\w./-]+\.(?:ts|yaml|md|sh))\b/g);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsSync(join(PROJECT_ROOT, p)))).toEqual([]);
  });

  it('warns that deleting the CRD deletes every dlds and its pods, and orphans them first', () => {
    expect(doc).toMatch(/deleting the CRD `daemonsets\.daemonless\.io` deletes every `dlds`/);
    const orphan = doc.indexOf('kubectl delete dlds --all -A --cascade=orphan');
    const crd = doc.indexOf('kubectl delete crd daemonsets.daemonless.io');
    expect(orphan).toBeGreaterThan(0);
    expect(crd).toBeGreaterThan(orphan);
  });

  it('states the versions the project pins in its compatibility table', () => {
    const table = doc.slice(doc.indexOf('### Compatibility'), doc.indexOf('### Prerequisites'));
    expect(table).toContain(`aws-cdk-lib ${pkg.dependencies['aws-cdk-lib']}`);
    expect(table).toContain(`CLI ${pkg.devDependencies['aws-cdk']}`);
    expect(table).toContain(`\`${RUNTIME.name}\``);
    expect(pkg.devDependencies.node!.split('.')[0]).toBe(RUNTIME.name.replace(/^nodejs(\d+)\.x$/, '$1'));
    // The webhook configuration uses matchConditions (GA in 1.30); the local plane runs a version at least that.
    expect(table).toMatch(/\| Kubernetes \| 1\.30 or newer/);
    const tested = /K8S_VERSION=v1\.(\d+)\./.exec(read('lib/local-plane/build/versions.env'))?.[1];
    expect(Number(tested)).toBeGreaterThanOrEqual(30);
    expect(table).toContain(`tested with 1.${tested}`);
  });
});

describe('release files', () => {
  it('has the Apache-2.0 license package.json declares', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('has a changelog whose latest version is package.json\'s', () => {
    const latest = /^## (\d+\.\d+\.\d+)\b/m.exec(read('CHANGELOG.md'))?.[1];
    expect(latest).toBe(pkg.version);
    expect(pkg.version).not.toBe('0.1.0');
    expect(JSON.parse(read('package-lock.json')).version).toBe(pkg.version);
  });
});
