/**
 * Reading a `daemonless plan` snapshot (spec/plan-cli.md): a `v1` List or a multi-document
 * YAML/JSON stream of Nodes, Pods, DaemonSets and ControllerRevisions. Pure: text (or bytes) in,
 * objects or one error line out.
 *
 * Memory: the input is parsed one object at a time where its layout allows (JSON, and the block
 * sequence of a List as `kubectl -o yaml` prints it), so a large snapshot costs about its objects,
 * not a YAML syntax tree of the whole text; fields the plan never reads (`managedFields`, node
 * images) are dropped as each object is read. bench/plan-memory.ts measures it.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments, parseDocument, type Document } from 'yaml';
import * as z from 'zod';
import { validateDaemonSet, type Snapshot } from '../core/index.js';

/** The objects of a snapshot, by kind (other kinds are dropped). */
export interface SnapshotObjects {
  readonly daemonSets: readonly V1DaemonSet[];
  readonly nodes: readonly V1Node[];
  readonly pods: readonly V1Pod[];
  readonly revisions: readonly V1ControllerRevision[];
}

/** A problem with the input: one line naming the object and the problem (exit status 2). */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/**
 * The most alias expansions one object may contain (the yaml library's `maxAliasCount`).
 * API objects never use aliases; the limit stops a "billion laughs" document from exhausting memory.
 */
export const MAX_YAML_ALIASES = 100;

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kinds of DaemonSet accepted: apps/v1 and any group's `DaemonSet` with the same schema. */
const DAEMONSET_KIND = 'DaemonSet';
const READ_KINDS = new Set(['Node', 'Pod', 'ControllerRevision', DAEMONSET_KIND]);

/**
 * Parses a snapshot (YAML or JSON text, or its bytes; one List, one object, or a stream of them;
 * `*List` kinds with `items` are flattened). Throws `SnapshotError` for input that is not UTF-8
 * text, not YAML/JSON, holds no object, an object without `kind` or `metadata`, an object of a
 * read kind without a name or with a field of the wrong type, or a DaemonSet that fails API
 * validation. Objects without a namespace are taken to be in `default`.
 */
export function parseSnapshot(input: string | Uint8Array, source: string): SnapshotObjects {
  const text = typeof input === 'string' ? input : decodeText(input, source);
  if (typeof input === 'string' && input.includes('\u0000')) throw new SnapshotError(`${source}: not text (it holds NUL bytes): want YAML or JSON`);
  const out = { daemonSets: [] as V1DaemonSet[], nodes: [] as V1Node[], pods: [] as V1Pod[], revisions: [] as V1ControllerRevision[] };
  let count = 0;
  const add = (value: unknown, where: string): void => {
    count += 1;
    visit(value, where, source, out);
  };
  readValues(text, source, add);
  if (count === 0) throw new SnapshotError(`${source}: empty: no YAML or JSON document in it`);
  return out;
}

/** UTF-8 bytes → text; anything else is refused without echoing it. */
function decodeText(bytes: Uint8Array, source: string): string {
  if (bytes.includes(0)) throw new SnapshotError(`${source}: not text (it holds NUL bytes): want YAML or JSON`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new SnapshotError(`${source}: not text (not valid UTF-8): want YAML or JSON`);
  }
}

// ---- Text → values, one object at a time where possible ----

function readValues(text: string, source: string, add: (value: unknown, where: string) => void): void {
  const start = /\S/.exec(text)?.index ?? -1;
  if (start < 0) return;
  const first = text[start];
  if (first === '{' || first === '[') {
    let value: unknown;
    let ok = true;
    try {
      value = JSON.parse(text);
    } catch {
      ok = false; // maybe a stream of JSON documents, or YAML flow style: read it as YAML
    }
    if (ok) {
      add(value, 'document');
      return;
    }
  }
  const fast = readYamlByItems(text, source);
  if (fast !== null) {
    fast.forEach((v, i) => add(v, fast.length === 1 ? 'document' : `document ${i + 1}`));
    return;
  }
  const docs = parseAllDocuments(text);
  const all = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  all.forEach((doc, i) => {
    const value = toJs(doc, source, all.length === 1 ? 'document' : `document ${i + 1}`);
    if (value !== null && value !== undefined) values.push(value);
  });
  values.forEach((v, i) => add(v, values.length === 1 ? 'document' : `document ${i + 1}`));
}

function toJs(doc: Document, source: string, where: string): unknown {
  const err = doc.errors[0];
  if (err) throw new SnapshotError(`${source}: not valid YAML or JSON: ${oneLine(err.message)}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    throw aliasError(e, source, where) ?? new SnapshotError(`${source}: ${where}: not valid YAML: ${oneLine((e as Error).message)}`);
  }
}

function aliasError(e: unknown, source: string, where: string): SnapshotError | null {
  return e instanceof ReferenceError && /excessive alias/i.test(e.message)
    ? new SnapshotError(`${source}: ${where}: more than ${MAX_YAML_ALIASES} YAML alias expansions (refused as a resource-exhaustion attack)`)
    : null;
}

/**
 * The documents of a plain YAML stream (`---` lines between documents), each List's block
 * sequence of `items` parsed one item at a time. Null when the layout is another one (directives,
 * markers with content) or a piece does not parse on its own: then the whole text is parsed at once.
 */
function readYamlByItems(text: string, source: string): unknown[] | null {
  if (/^(?:---|\.\.\.)[ \t]*[^#\s]/m.test(text) || /^%/m.test(text)) return null;
  const values: unknown[] = [];
  const markers = /^(?:---|\.\.\.)[ \t]*(?:#.*)?$/gm;
  let begin = 0;
  const chunk = (end: number): boolean => {
    const value = readDocument(text, begin, end, source);
    if (value === FAILED) return false;
    if (value !== null && value !== undefined) values.push(value);
    return true;
  };
  for (let m = markers.exec(text); m !== null; m = markers.exec(text)) {
    if (!chunk(m.index)) return null;
    begin = m.index + m[0].length;
  }
  return chunk(text.length) ? values : null;
}

/** One document of `text` (from `begin` to `end`): a List's items one by one, anything else whole. */
function readDocument(text: string, begin: number, end: number, source: string): unknown {
  const key = /^items:[ \t]*(?:#.*)?$/gm;
  key.lastIndex = begin;
  const found = key.exec(text);
  if (found === null || found.index >= end) return parseOne(text.slice(begin, end), source, 'document');
  // Lines after `items:`: a block sequence whose entries start with `- ` at one indentation.
  let at = found.index + found[0].length + 1;
  let indent = -1;
  const items: unknown[] = [];
  let itemStart = -1;
  const flush = (until: number): boolean => {
    if (itemStart < 0) return true;
    // The entry's `-` becomes a space: the entry is then an indented mapping that parses alone.
    const piece = `${text.slice(itemStart, itemStart + indent)} ${text.slice(itemStart + indent + 1, until)}`;
    const value = parseOne(piece, source, `document.items[${items.length}]`);
    itemStart = -1;
    if (value === FAILED) return false;
    items.push(value);
    return true;
  };
  while (at < end) {
    const nl = text.indexOf('\n', at);
    const lineEnd = nl < 0 || nl > end ? end : nl;
    let spaces = 0;
    while (text.charCodeAt(at + spaces) === 0x20) spaces += 1;
    const c = text.charCodeAt(at + spaces);
    const blank = at + spaces >= lineEnd || c === 0x0d || c === 0x23; // empty, CR, comment
    const dash = c === 0x2d && (at + spaces + 1 >= lineEnd || text.charCodeAt(at + spaces + 1) === 0x20);
    if (indent < 0 && !blank) {
      if (!dash) return FAILED;
      indent = spaces;
    }
    if (dash && spaces === indent) {
      if (!flush(at)) return FAILED;
      itemStart = at;
    } else if (!blank && spaces < indent + 2) {
      break;
    }
    at = lineEnd + 1;
  }
  const itemsEnd = Math.min(at, end);
  if (!flush(itemsEnd)) return FAILED;
  const head = parseOne(`${text.slice(begin, found.index)}items: []\n${text.slice(itemsEnd, end)}`, source, 'document');
  if (head === FAILED || !isObject(head) || !Array.isArray(head['items']) || head['items'].length > 0) return FAILED;
  head['items'] = items;
  return head;
}

const FAILED = Symbol('failed');

/** One piece parsed on its own; FAILED when it does not parse alone (the caller falls back). */
function parseOne(text: string, source: string, where: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return FAILED;
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    const alias = aliasError(e, source, where);
    if (alias !== null) throw alias;
    return FAILED;
  }
}

// ---- Values → checked objects ----

const labelMap = z.record(z.string(), z.string(), { error: 'must be a map of strings' });
const str = z.string({ error: 'must be a string' });
const num = z.number({ error: 'must be a number' });

const metadataSchema = z.looseObject({
  name: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  namespace: str.nullish(),
  uid: str.nullish(),
  generation: num.int().nullish(),
  creationTimestamp: str.nullish(),
  deletionTimestamp: str.nullish(),
  labels: labelMap.nullish(),
  annotations: labelMap.nullish(),
  ownerReferences: z.array(z.looseObject({ apiVersion: str, kind: str, name: str, uid: str, controller: z.boolean().nullish() }), { error: 'must be a list' }).nullish(),
});

const conditions = z.array(z.looseObject({ type: str, status: str }), { error: 'must be a list' }).nullish();

const SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  Node: z.looseObject({
    metadata: metadataSchema,
    spec: z.looseObject({
      taints: z.array(z.looseObject({ key: str, value: str.nullish(), effect: str }), { error: 'must be a list' }).nullish(),
      unschedulable: z.boolean().nullish(),
    }).nullish(),
    status: z.looseObject({ conditions }).nullish(),
  }),
  Pod: z.looseObject({
    metadata: metadataSchema,
    spec: z.looseObject({ nodeName: str.nullish() }).nullish(),
    status: z.looseObject({ phase: str.nullish(), conditions }).nullish(),
  }),
  ControllerRevision: z.looseObject({
    metadata: metadataSchema,
    revision: num.int().nullish(),
    data: z.unknown().refine((d) => revisionDataProblem(d) === null, { error: 'must be a JSON object (or JSON text of one)' }),
  }),
  DaemonSet: z.looseObject({
    metadata: metadataSchema,
    spec: z.looseObject({}, { error: 'must be an object' }).nullish(),
    status: z.looseObject(Object.fromEntries(['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'updatedNumberScheduled',
      'numberAvailable', 'numberUnavailable', 'observedGeneration', 'collisionCount'].map((k) => [k, num.int().nullish()]))).nullish(),
  }),
};

function revisionDataProblem(data: unknown): string | null {
  if (data === undefined || data === null || isObject(data)) return null;
  if (typeof data !== 'string') return 'not an object';
  try {
    return isObject(JSON.parse(data)) ? null : 'not an object';
  } catch {
    return 'not JSON';
  }
}

function visit(value: unknown, where: string, source: string, out: { daemonSets: V1DaemonSet[]; nodes: V1Node[]; pods: V1Pod[]; revisions: V1ControllerRevision[] }): void {
  if (!isObject(value)) throw new SnapshotError(`${source}: ${where} is not an object`);
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') throw new SnapshotError(`${source}: ${where} has no kind`);
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value['items']))) {
    const items = value['items'];
    if (!Array.isArray(items)) throw new SnapshotError(`${source}: ${where} (${printable(kind)}) has no items list`);
    items.forEach((item, i) => visit(item, `${where}.items[${i}]`, source, out));
    return;
  }
  if (!isObject(value['metadata'])) throw new SnapshotError(`${source}: ${where} (${printable(kind)}) has no metadata`);
  if (!READ_KINDS.has(kind)) return;
  const meta = value['metadata'];
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const namespace = typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : 'default';
  const label = kind === 'Node' ? `Node ${printable(name)}` : `${kind} ${printable(namespace)}/${printable(name)}`;
  const checked = (SCHEMAS[kind] as z.ZodType).safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    if (path === 'metadata.name') throw new SnapshotError(`${source}: ${where} (${kind}) has no metadata.name`);
    throw new SnapshotError(`${label}: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  // Fields no plan reads, dropped to keep a large snapshot small in memory.
  delete meta['managedFields'];
  if (kind === 'Node') {
    const status = value['status'];
    if (isObject(status)) delete status['images'];
    out.nodes.push(value as V1Node);
    return;
  }
  meta['namespace'] = namespace;
  if (kind === 'Pod') out.pods.push(value as V1Pod);
  else if (kind === 'ControllerRevision') out.revisions.push(value as unknown as V1ControllerRevision);
  else {
    const ds = value as V1DaemonSet;
    const problems = validateDaemonSet(ds);
    const first = problems[0];
    if (first) {
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
      throw new SnapshotError(`DaemonSet ${printable(namespace)}/${printable(name) || '<no name>'}: ${first.field}: ${printable(first.message)}${more}`);
    }
    out.daemonSets.push(ds);
  }
}

/** The per-DaemonSet snapshots (nodes: all; pods and revisions: the DaemonSet's namespace). */
export function snapshotsOf(objects: SnapshotObjects): Snapshot[] {
  const byNamespace = <T extends { metadata?: { namespace?: string } }>(list: readonly T[]): Map<string, T[]> => {
    const map = new Map<string, T[]>();
    for (const x of list) {
      const ns = x.metadata?.namespace ?? '';
      const bucket = map.get(ns);
      if (bucket) bucket.push(x);
      else map.set(ns, [x]);
    }
    return map;
  };
  const pods = byNamespace(objects.pods);
  const revisions = byNamespace(objects.revisions);
  return [...objects.daemonSets]
    .sort((a, b) => cmp(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '') || cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''))
    .map((ds) => ({
      daemonSet: ds,
      nodes: objects.nodes,
      pods: pods.get(ds.metadata?.namespace ?? '') ?? [],
      revisions: revisions.get(ds.metadata?.namespace ?? '') ?? [],
      complete: true,
    }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** At most 200 characters, control characters escaped: input never reaches the terminal raw. */
export function printable(text: string): string {
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
}

function oneLine(text: string): string {
  return printable(text.split('\n')[0]?.trim() ?? text);
}
