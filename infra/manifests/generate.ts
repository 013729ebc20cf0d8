/**
 * The files under infra/manifests/generated/ (rendered from the builders in lib/manifests), for
 * `kubectl apply -f` without running any code.
 * Regenerate with `npx tsx infra/manifests/generate.ts`; a test fails when they are stale.
 *
 * The webhook files carry the placeholder `${DAEMONLESS_WEBHOOK_URL}` for the deployment-specific URL:
 *   DAEMONLESS_WEBHOOK_URL=https://…/hook/<token> envsubst '$DAEMONLESS_WEBHOOK_URL' \
 *     < infra/manifests/generated/webhook-crd.yaml | kubectl apply -f -
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedResource } from '../../lib/core/index.js';
import { renderArgoCdHealthPatch } from '../../lib/manifests/argocd.js';
import { buildDaemonSetCrd } from '../../lib/manifests/crd.js';
import { buildRbac } from '../../lib/manifests/rbac.js';
import { renderObjects } from '../../lib/manifests/render.js';
import { buildWebhookConfiguration } from '../../lib/manifests/webhook.js';

export const GENERATED_DIR = fileURLToPath(new URL('./generated', import.meta.url));
export const WEBHOOK_URL_PLACEHOLDER = '${DAEMONLESS_WEBHOOK_URL}';

/** A syntactically valid stand-in, swapped for the placeholder after rendering. */
const STAND_IN_URL = 'https://daemonless-webhook-url.invalid/hook/placeholder';

/** File name → content. */
export function generatedFiles(): Record<string, string> {
  const files: Record<string, string> = { 'crd.yaml': renderObjects([buildDaemonSetCrd()]), 'argocd-cm-health.yaml': renderArgoCdHealthPatch() };
  for (const managedResource of ['native', 'crd'] as const satisfies readonly ManagedResource[]) {
    files[`rbac-${managedResource}.yaml`] = renderObjects(buildRbac({ managedResource }));
    const webhook = renderObjects([buildWebhookConfiguration({ managedResource, url: STAND_IN_URL })]);
    files[`webhook-${managedResource}.yaml`] = webhook.replace(STAND_IN_URL, `"${WEBHOOK_URL_PLACEHOLDER}"`);
  }
  return files;
}

export function writeGeneratedFiles(dir: string = GENERATED_DIR): void {
  mkdirSync(dir, { recursive: true });
  const files = generatedFiles();
  for (const name of readdirSync(dir)) if (!(name in files)) rmSync(join(dir, name));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeGeneratedFiles();
}
