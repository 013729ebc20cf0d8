import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POD_TEMPLATE_SPEC, renderPodTemplateSchemaFile, structuralSchemaOf, type Schema } from '../../lib/manifests/openapi-schema.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const doc = (schemas: Record<string, Schema>) => ({ components: { schemas } });

describe('structural pod template schema from the API server OpenAPI (CRD-1)', () => {
  it('inlines $ref and single-$ref allOf wrappers, dropping descriptions, defaults and patch extensions', () => {
    const out = structuralSchemaOf(doc({
      Root: {
        type: 'object',
        description: 'root',
        properties: {
          b: { allOf: [ref('Leaf')], default: {}, description: 'wrapped' },
          a: { type: 'array', items: ref('Leaf'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
        },
        required: ['a'],
      },
      Leaf: { type: 'object', properties: { n: { type: 'integer', format: 'int32', default: 0 } }, 'x-kubernetes-map-type': 'atomic' },
    }), 'Root');
    const leaf = { 'x-kubernetes-map-type': 'atomic', properties: { n: { format: 'int32', type: 'integer' } }, type: 'object' };
    expect(out).toEqual({ properties: { a: { items: leaf, type: 'array' }, b: leaf }, required: ['a'], type: 'object' });
    expect(Object.keys(out.properties as object)).toEqual(['a', 'b']);
  });

  it('turns IntOrString into int-or-string and Quantity into a leaf that takes any number or string', () => {
    const out = structuralSchemaOf(doc({
      Root: { type: 'object', properties: { port: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'), limits: { type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') } } },
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] },
      'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
    }), 'Root');
    expect(out.properties).toEqual({
      limits: { type: 'object', additionalProperties: { 'x-kubernetes-preserve-unknown-fields': true } },
      port: { 'x-kubernetes-int-or-string': true },
    });
  });

  it('keeps list maps whose keys are required, makes the others atomic (optional key, duplicates apps/v1 accepts)', () => {
    const listOf = (item: string, keys: string[]) => ({ type: 'array', items: ref(item), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
    const out = structuralSchemaOf(doc({
      Root: {
        type: 'object',
        properties: {
          containers: listOf('Container', ['name']),
          ports: listOf('io.k8s.api.core.v1.ContainerPort', ['containerPort', 'protocol']),
          env: listOf('io.k8s.api.core.v1.EnvVar', ['name']),
          tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        },
      },
      Container: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      'io.k8s.api.core.v1.ContainerPort': { type: 'object', required: ['containerPort'], properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } },
      'io.k8s.api.core.v1.EnvVar': { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    }), 'Root');
    const p = out.properties as Record<string, Schema>;
    expect(p.containers).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(p.ports!['x-kubernetes-list-type']).toBe('atomic');
    expect(p.ports).not.toHaveProperty('x-kubernetes-list-map-keys');
    expect(p.env!['x-kubernetes-list-type']).toBe('atomic');
    expect(p.tags!['x-kubernetes-list-type']).toBe('set');
  });

  it('fails loudly on what it cannot carry over', () => {
    expect(() => structuralSchemaOf(doc({ Root: { type: 'object', properties: { x: { type: 'string', pattern: '^a' } } } }), 'Root'))
      .toThrow(/Root\.x: keyword pattern is not supported/);
    expect(() => structuralSchemaOf(doc({ Root: { type: 'object', properties: { self: ref('Root') } } }), 'Root')).toThrow(/recursive type Root/);
    expect(() => structuralSchemaOf(doc({ Root: { type: 'object', properties: { x: ref('Gone') } } }), 'Root')).toThrow(/Gone is not in the document/);
    expect(() => structuralSchemaOf(doc({}))).toThrow(`${POD_TEMPLATE_SPEC} is not in the OpenAPI document`);
  });

  it('converts the apps/v1 document of the harness\'s Kubernetes version into a schema with no reference, description or default', () => {
    const committed = JSON.parse(readFileSync(new URL('../../lib/manifests/pod-template-schema.json', import.meta.url), 'utf8')) as { schema: Schema };
    const text = JSON.stringify(committed.schema);
    expect(text).not.toMatch(/"\$ref"|"description"|"default"|"allOf"|"oneOf"/);
    const spec = (committed.schema.properties as Record<string, Schema>).spec!;
    expect(spec.required).toEqual(['containers']);
    expect((spec.properties as Record<string, Schema>).containers).toMatchObject({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(renderPodTemplateSchemaFile(committed as never)).toBe(readFileSync(new URL('../../lib/manifests/pod-template-schema.json', import.meta.url), 'utf8'));
  });
});
