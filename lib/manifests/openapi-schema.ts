/**
 * Turns the API server's own OpenAPI v3 document of apps/v1 (`GET /openapi/v3/apis/apps/v1`) into
 * the structural schema of a PodTemplateSpec that a CustomResourceDefinition accepts, so that
 * `kubectl apply` of a `dlds` checks the pod template's types and structure as it checks a
 * native DaemonSet's (spec: CRD-1).
 *
 * What changes on the way from the native schema to a CRD schema:
 * - `$ref` and the single-`$ref` `allOf` wrappers are inlined (a CRD schema has no references);
 * - IntOrString becomes `x-kubernetes-int-or-string: true`; a Quantity, which the native API takes
 *   as a string or any JSON number (`cpu: 0.5`), becomes a leaf with
 *   `x-kubernetes-preserve-unknown-fields: true` (a structural schema cannot say "string or number",
 *   and refusing `0.5` would refuse what apps/v1 accepts);
 * - descriptions are dropped (size: the whole CRD must fit one etcd object) and so are defaults:
 *   a CRD default is written into every stored object, also on read, so it would change the
 *   template — and with it the revision hash — of every existing `dlds`;
 * - enums go too: the API server lists the values it knows today, and a newer API server (or one
 *   with a feature gate on) accepts more; the pods the controller creates are checked in full;
 * - patch-strategy, union and group-version-kind extensions go (they mean nothing to a CRD);
 * - `x-kubernetes-list-type: map|set` is kept where apps/v1 refuses duplicates as well; where a key
 *   is optional (a CRD list-map key must be required or defaulted) or where apps/v1 only warns
 *   about duplicates (env, hostAliases, finalizers), the list becomes `atomic`, so the CRD never
 *   refuses what a native DaemonSet accepts.
 */

/** A structural OpenAPI v3 schema as the CRD API takes it (field names verbatim, `x-kubernetes-*`). */
export type Schema = { readonly [key: string]: unknown };

/** The OpenAPI v3 document the API server serves per group version. */
export interface OpenApiDocument {
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

const REF_PREFIX = '#/components/schemas/';
export const POD_TEMPLATE_SPEC = 'io.k8s.api.core.v1.PodTemplateSpec';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Keys copied as they are. */
const KEPT = new Set(['type', 'format', 'required', 'x-kubernetes-map-type', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']);
/** Keys dropped on purpose (see the module comment). Any other key is an error: the generator must be taught it. */
const DROPPED = new Set([
  'description', 'default', 'enum', 'x-kubernetes-patch-strategy', 'x-kubernetes-patch-merge-key', 'x-kubernetes-unions',
  'x-kubernetes-group-version-kind',
]);
/** List properties whose duplicates apps/v1 accepts (with a warning at most): kept atomic. */
const DUPLICATES_ACCEPTED = new Set(['io.k8s.api.core.v1.EnvVar', 'io.k8s.api.core.v1.HostAlias', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers']);

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

function refName(node: Schema): string | undefined {
  const ref = (node.$ref as string | undefined) ?? (Array.isArray(node.allOf) && node.allOf.length === 1 ? (node.allOf[0] as Schema).$ref as string | undefined : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref;
}

/**
 * The structural schema of `root` (default PodTemplateSpec) from the document, keys sorted.
 * Throws on what it does not know how to carry over (an unknown keyword, a recursive type, a
 * missing reference), so a newer API server fails loudly instead of yielding a wrong schema.
 */
export function structuralSchemaOf(doc: OpenApiDocument, root: string = POD_TEMPLATE_SPEC): Schema {
  const schemas = doc.components?.schemas ?? {};
  const convert = (node: Schema, path: string, stack: readonly string[], owner: string): Schema => {
    const ref = refName(node);
    if (ref !== undefined) {
      if (node.$ref === undefined && Object.keys(node).some((k) => k !== 'allOf' && !DROPPED.has(k))) {
        throw new Error(`${path}: allOf with keywords besides a $ref is not supported`);
      }
      if (ref === INT_OR_STRING) return { 'x-kubernetes-int-or-string': true };
      if (ref === QUANTITY) return { 'x-kubernetes-preserve-unknown-fields': true };
      if (stack.includes(ref)) throw new Error(`${path}: recursive type ${ref} cannot be inlined`);
      const target = schemas[ref];
      if (target === undefined) throw new Error(`${path}: $ref ${ref} is not in the document`);
      return convert(target, path, [...stack, ref], ref);
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node).sort(byKey)) {
      if (DROPPED.has(key)) continue;
      if (key === 'properties') {
        out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).sort(byKey)
          .map(([name, s]) => [name, convert(s, `${path}.${name}`, stack, `${owner}.${name}`)]));
      } else if (key === 'items') {
        out.items = convert(value as Schema, `${path}[]`, stack, owner);
      } else if (key === 'additionalProperties' && typeof value === 'object' && value !== null) {
        out.additionalProperties = convert(value as Schema, `${path}{}`, stack, owner);
      } else if (KEPT.has(key)) {
        out[key] = value;
      } else {
        throw new Error(`${path}: keyword ${key} is not supported by the CRD schema generator`);
      }
    }
    return relaxListType(out, node, owner);
  };
  const top = schemas[root];
  if (top === undefined) throw new Error(`${root} is not in the OpenAPI document`);
  return convert(top, root, [root], root);
}

function relaxListType(out: Record<string, unknown>, source: Schema, owner: string): Schema {
  const listType = out['x-kubernetes-list-type'];
  if (listType !== 'map' && listType !== 'set') return out;
  const items = out.items as Schema | undefined;
  const itemRef = source.items ? refName(source.items as Schema) : undefined;
  const keys = (out['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
  const required = new Set((items?.required as string[] | undefined) ?? []);
  const relaxed = DUPLICATES_ACCEPTED.has(owner) || (itemRef !== undefined && DUPLICATES_ACCEPTED.has(itemRef)) ||
    (listType === 'map' && keys.some((k) => !required.has(k)));
  if (!relaxed) return out;
  const { 'x-kubernetes-list-map-keys': _keys, ...rest } = out;
  return { ...rest, 'x-kubernetes-list-type': 'atomic' };
}

/** Where the pod template schema comes from: the API server's own OpenAPI document of apps/v1. */
export const OPENAPI_PATH = '/openapi/v3/apis/apps/v1';

/** The content of pod-template-schema.json: the structural schema and where it came from. */
export interface PodTemplateSchemaFile {
  readonly source: { readonly apiServer: string; readonly path: string; readonly type: string };
  readonly schema: Schema;
}

/** The file content for the OpenAPI document `doc` served by an API server of version `gitVersion`. */
export function podTemplateSchemaFile(doc: OpenApiDocument, gitVersion: string): PodTemplateSchemaFile {
  return { source: { apiServer: `kube-apiserver ${gitVersion}`, path: OPENAPI_PATH, type: POD_TEMPLATE_SPEC }, schema: structuralSchemaOf(doc) };
}

/** The file as committed: two-space JSON with a final newline. */
export function renderPodTemplateSchemaFile(file: PodTemplateSchemaFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
