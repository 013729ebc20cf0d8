import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../../infra/manifests/generate.js';
import { projectManifests } from '../../../lib/local-plane/manifests.js';

describe('projectManifests()', () => {
  it('is every generated manifest except the webhook registration and the Argo CD ConfigMap patch, byte for byte', () => {
    const generated = Object.entries(generatedFiles()).filter(([name]) => !name.includes('webhook') && !name.startsWith('argocd-')).sort(([a], [b]) => a.localeCompare(b));
    expect(projectManifests().map((m) => [m.name, m.yaml])).toEqual(generated);
  });
});
