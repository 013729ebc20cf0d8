/**
 * Regenerates lib/manifests/pod-template-schema.json from a running API server's own OpenAPI
 * (`GET /openapi/v3/apis/apps/v1`), then the files under infra/manifests/generated/.
 *
 *   npm run crd:schema                          # starts a local control plane, reads it, stops it
 *   npm run crd:schema -- --kubeconfig FILE     # reads the cluster of FILE (e.g. one from `npm run cluster:up`)
 *
 * A test (test/integration/crd.int.test.ts) fails when the committed file differs from what the
 * local plane serves.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBinaries, runKubectl, startControlPlane } from '../../lib/local-plane/control-plane.js';
import { writeGeneratedFiles } from './generate.js';
import { OPENAPI_PATH, podTemplateSchemaFile, renderPodTemplateSchemaFile, type PodTemplateSchemaFile } from '../../lib/manifests/openapi-schema.js';

export const POD_TEMPLATE_SCHEMA_FILE = fileURLToPath(new URL('../../lib/manifests/pod-template-schema.json', import.meta.url));

/** Reads /version and the apps/v1 OpenAPI document with the real kubectl and converts them. */
export async function fetchPodTemplateSchema(binDir: string, kubeconfig: string): Promise<PodTemplateSchemaFile> {
  const get = async (path: string): Promise<unknown> => {
    const r = await runKubectl(binDir, kubeconfig, ['get', '--raw', path]);
    if (r.code !== 0) throw new Error(`kubectl get --raw ${path} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown;
  };
  const version = (await get('/version')) as { gitVersion: string };
  return podTemplateSchemaFile((await get(OPENAPI_PATH)) as Parameters<typeof podTemplateSchemaFile>[0], version.gitVersion);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' } }, strict: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let file: PodTemplateSchemaFile;
  if (values.kubeconfig !== undefined) {
    file = await fetchPodTemplateSchema(await ensureBinaries(log), values.kubeconfig);
  } else {
    const plane = await startControlPlane({ name: 'schema', scheduler: false, kwok: false, log });
    try {
      file = await fetchPodTemplateSchema(plane.binDir, plane.adminKubeconfig);
    } finally {
      await plane.stop();
    }
  }
  writeFileSync(POD_TEMPLATE_SCHEMA_FILE, renderPodTemplateSchemaFile(file));
  writeGeneratedFiles();
  log(`wrote ${POD_TEMPLATE_SCHEMA_FILE} (${file.source.apiServer}) and infra/manifests/generated/`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
