/**
 * Reading a `daemonless plan` snapshot (spec/plan-cli.md): a `v1` List or a multi-document
 * YAML/JSON stream of Nodes, Pods, DaemonSets and ControllerRevisions. Pure: text, bytes or a
 * source of bytes read by position in; objects or one error line out.
 *
 * Memory: YAML is read line by line from the bytes, through a small window (a file is never read
 * whole); the documents of a stream and the block sequence of a List's items (as `kubectl -o
 * yaml` prints it) are parsed one at a time, and each value is cut down to the fields a plan
 * reads (`shrink`) and copied off its text before the next is read, so a large snapshot costs
 * about the fields kept, not a syntax tree or a copy of the whole text. JSON is parsed whole
 * (`JSON.parse` is compact), then cut down. Other YAML layouts are parsed whole.
 * bench/plan-memory.ts measures it.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { isUtf8 } from 'node:buffer';
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
 * Bytes read by position, so that a large snapshot file need not be in memory all at once
 * (the command reads a regular file this way).
 */
export interface ByteSource {
  readonly length: number;
  /** Fills `into` with the bytes from `position` on (never asked past `length`). */
  readInto(into: Uint8Array, position: number): void;
}

/**
 * Parses a snapshot (YAML or JSON text, its bytes or a source of them; one List, one object, or a stream of them;
 * `*List` kinds with `items` are flattened). Throws `SnapshotError` for input that is not UTF-8
 * text, not YAML/JSON, holds no object, an object without `kind` or `metadata`, an object of a
 * read kind without a name or with a field of the wrong type, or a DaemonSet that fails API
 * validation. Objects without a namespace are taken to be in `default`.
 */
export function parseSnapshot(input: string | Uint8Array | ByteSource, source: string): SnapshotObjects {
  if (typeof input === 'string' && input.includes('\u0000')) throw new SnapshotError(`${source}: not text (it holds NUL bytes): want YAML or JSON`);
  // A string is read as its UTF-8 bytes; one with a lone surrogate (no UTF-8 for it) is parsed whole.
  const raw = typeof input !== 'string' ? input : LONE_SURROGATE.test(input) ? null : new TextEncoder().encode(input);
  const bytes = raw === null ? null : new Bytes(raw);
  if (typeof input !== 'string' && bytes !== null) checkText(bytes, source);
  const whole = (): string => (typeof input === 'string' ? input : (bytes as Bytes).whole());
  const out = { daemonSets: [] as V1DaemonSet[], nodes: [] as V1Node[], pods: [] as V1Pod[], revisions: [] as V1ControllerRevision[] };
  const values = readValues(bytes, whole, { source, keep: keeper() });
  if (values.length === 0) throw new SnapshotError(`${source}: empty: no YAML or JSON document in it`);
  values.forEach((v, i) => visit(v, values.length === 1 ? 'document' : `document ${i + 1}`, source, out));
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Bytes are read (and checked) this many at a time. */
const WINDOW_BYTES = 1 << 16;
/** Text up to this size is read from a source into one reused buffer. */
const SCRATCH_BYTES = 1 << 20;

/**
 * Bytes in memory or from a source, read through a window that moves forward (a source's
 * through reused buffers); text is decoded one slice at a time.
 */
class Bytes {
  readonly length: number;
  private window: Uint8Array = new Uint8Array(0);
  private start = 0;
  private readonly buffer: Uint8Array;
  private scratch = new Uint8Array(0);
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(private readonly source: Uint8Array | ByteSource) {
    this.length = source.length;
    this.buffer = new Uint8Array(source instanceof Uint8Array ? 0 : WINDOW_BYTES);
  }

  /** The byte at `i`, or -1 outside the bytes. */
  at(i: number): number {
    if (i < 0 || i >= this.length) return -1;
    if (i < this.start || i >= this.start + this.window.length) this.load(i);
    return this.window[i - this.start] as number;
  }

  /** Where `byte` is first found at or after `from`, or -1. */
  indexOf(byte: number, from: number): number {
    for (let i = from; i < this.length; i = this.start + this.window.length) {
      if (i < this.start || i >= this.start + this.window.length) this.load(i);
      const found = this.window.indexOf(byte, i - this.start);
      if (found >= 0) return this.start + found;
    }
    return -1;
  }

  /** The text from `begin` to `end` (a byte order mark in it kept). */
  text(begin: number, end: number): string {
    return this.decoder.decode(this.slice(begin, end, false));
  }

  /** All the text (a leading byte order mark dropped, as a decoder does). */
  whole(): string {
    return new TextDecoder('utf-8', { ignoreBOM: false }).decode(this.slice(0, this.length, true));
  }

  /** The bytes in pieces that end between two characters. */
  *pieces(): Generator<Uint8Array> {
    for (let at = 0; at < this.length;) {
      this.load(at);
      const chunk = this.window;
      let cut = chunk.length;
      if (at + cut < this.length) {
        while (cut > 0 && ((chunk[cut - 1] as number) & 0xc0) === 0x80) cut -= 1; // continuation bytes
        if (cut > 0 && (chunk[cut - 1] as number) >= 0xc0) cut -= 1; // the lead byte of a character cut in two
        if (cut === 0) cut = chunk.length; // not UTF-8 anyway
      }
      yield chunk.subarray(0, cut);
      at += cut;
    }
  }

  private load(i: number): void {
    const end = Math.min(i + WINDOW_BYTES, this.length);
    this.start = i;
    if (this.source instanceof Uint8Array) {
      this.window = this.source.subarray(i, end);
    } else {
      this.window = this.buffer.subarray(0, end - i);
      this.source.readInto(this.window, i);
    }
  }

  private slice(begin: number, end: number, once: boolean): Uint8Array {
    if (this.source instanceof Uint8Array) return this.source.subarray(begin, end);
    const size = end - begin;
    let into: Uint8Array;
    if (once || size > SCRATCH_BYTES) {
      into = new Uint8Array(size);
    } else {
      if (this.scratch.length < size) this.scratch = new Uint8Array(Math.min(SCRATCH_BYTES, Math.max(size, 2 * this.scratch.length, 4096)));
      into = this.scratch.subarray(0, size);
    }
    this.source.readInto(into, begin);
    return into;
  }
}

/** NUL bytes or bytes that are not UTF-8 are refused (NUL first), without echoing them. */
function checkText(bytes: Bytes, source: string): void {
  let utf8 = true;
  for (const piece of bytes.pieces()) {
    if (piece.includes(0)) throw new SnapshotError(`${source}: not text (it holds NUL bytes): want YAML or JSON`);
    utf8 &&= isUtf8(piece);
  }
  if (!utf8) throw new SnapshotError(`${source}: not text (not valid UTF-8): want YAML or JSON`);
}

// ---- Text → values, one object at a time where possible ----

/** The values of the documents, empty ones left out, each cut down to what a plan reads. */
function readValues(bytes: Bytes | null, whole: () => string, ctx: Reading): unknown[] {
  const { source } = ctx;
  const first = bytes === null ? /\S/.exec(whole())?.[0] : firstNonSpace(bytes);
  if (first === undefined) return [];
  if (first === '{' || first === '[') {
    try {
      return [shrink(JSON.parse(whole()))];
    } catch {
      // maybe a stream of JSON documents, or YAML flow style: read it as YAML
    }
  }
  const byItems = bytes === null ? null : readYamlByItems(bytes, ctx);
  if (byItems !== null) return byItems;
  const docs = parseAllDocuments(whole());
  const all = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  all.forEach((doc, i) => {
    const value = toJs(doc, source, all.length === 1 ? 'document' : `document ${i + 1}`);
    if (value !== null && value !== undefined) values.push(ctx.keep(value));
  });
  return values;
}

/** The first character that is not white space (as `\S` has it), without decoding the whole input. */
function firstNonSpace(bytes: Bytes): string | undefined {
  for (let at = 0; at < bytes.length;) {
    const b = bytes.at(at);
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) {
      at += 1;
      continue;
    }
    const length = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    const char = bytes.text(at, Math.min(at + length, bytes.length));
    if (/\S/.test(char)) return char;
    at += length;
  }
  return undefined;
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

/** A line that ends one document and starts the next (`---` or `...`, perhaps with a comment). */
const MARKER = /^(?:---|\.\.\.)(?:[ \t]+(?:#.*)?)?\r?$/;
/** The `items:` key of a List whose value is a block sequence, at the start of a line. */
const ITEMS_KEY = /^items:[ \t]*(?:#.*)?\r?$/;

/**
 * The documents of a plain YAML stream (marker lines between documents), read line by line from
 * the bytes: each List's block sequence of `items` is parsed one item at a time, as soon as the
 * item's last line is seen, and each value is cut down (`keep`) before the next is read, so no
 * syntax tree and no text of more than one object lives longer than its object. Null when the
 * layout is another one (directives, a marker with content, a lone CR) or a piece does not parse
 * on its own: then the whole text is parsed at once. An alias bomb in a piece is reported once
 * the rest of the input is known to have this layout.
 */
function readYamlByItems(bytes: Bytes, ctx: Reading): unknown[] | null {
  for (let cr = bytes.indexOf(0x0d, 0); cr >= 0; cr = bytes.indexOf(0x0d, cr + 1)) if (bytes.at(cr + 1) !== 0x0a) return null;
  const values: unknown[] = [];
  const bom = bytes.at(0) === 0xef && bytes.at(1) === 0xbb && bytes.at(2) === 0xbf;
  let doc = new DocumentLines(bytes, bom ? 3 : 0, ctx);
  let refused: SnapshotError | null = null;
  const endDocument = (end: number): boolean => {
    const value = doc.end(end);
    if (value === FAILED) return false;
    if (value !== null && value !== undefined) values.push(value);
    return true;
  };
  for (let at = doc.begin; at < bytes.length;) {
    const nl = bytes.indexOf(0x0a, at);
    const end = nl < 0 ? bytes.length : nl;
    const c = bytes.at(at);
    const marker = (c === 0x2d || c === 0x2e) && bytes.at(at + 1) === c && bytes.at(at + 2) === c;
    if (c === 0x25 || (marker && !MARKER.test(bytes.text(at, end)))) return null;
    if (refused === null) {
      try {
        if (marker) {
          if (!endDocument(at)) return null;
          doc = new DocumentLines(bytes, end, ctx);
        } else if (!doc.add(at, end)) {
          return null;
        }
      } catch (e) {
        if (!(e instanceof SnapshotError)) throw e;
        refused = e; // only the layout of the rest is checked now
      }
    }
    at = end + 1;
  }
  if (refused !== null) throw refused;
  return endDocument(bytes.length) ? values : null;
}

/**
 * One document, as byte offsets of its lines. The lines after a column-0 `items:` line form a
 * block sequence whose entries start with `- ` at one indentation: each entry is parsed alone
 * when the next one starts (its `-` made a space, it is an indented mapping); the rest of the
 * document is parsed with `items: []` and gets the entries. A document without such a line is
 * parsed whole.
 */
class DocumentLines {
  /** Start of the `items:` line; -1 before it. */
  private itemsKey = -1;
  /** Start of the first line after the entries; -1 while in them. */
  private itemsEnd = -1;
  private indent = -1;
  /** Start of the current entry; -1 before the first. */
  private entry = -1;
  private readonly items: unknown[] = [];

  constructor(private readonly bytes: Bytes, readonly begin: number, private readonly ctx: Reading) {}

  /** The line from `start` to `end` (without its line feed); false when the layout is another one. */
  add(start: number, end: number): boolean {
    const bytes = this.bytes;
    if (this.itemsEnd >= 0) return true;
    if (this.itemsKey < 0) {
      if (bytes.at(start) === 0x69 && ITEMS_KEY.test(bytes.text(start, end))) this.itemsKey = start;
      return true;
    }
    let spaces = 0;
    while (start + spaces < end && bytes.at(start + spaces) === 0x20) spaces += 1;
    const c = bytes.at(start + spaces);
    const blank = start + spaces >= end || c === 0x0d || c === 0x23; // empty, CR, comment
    const dash = c === 0x2d && (start + spaces + 1 >= end || bytes.at(start + spaces + 1) === 0x20);
    if (this.indent < 0 && !blank) {
      if (!dash) return false;
      this.indent = spaces;
    }
    if (dash && spaces === this.indent) {
      if (!this.flush(start)) return false;
      this.entry = start;
    } else if (!blank && spaces < this.indent + 2) {
      if (!this.flush(start)) return false;
      this.itemsEnd = start;
    }
    return true;
  }

  /** The document's value (null when it is empty), or FAILED; `end` is where it ends. */
  end(end: number): unknown {
    if (this.itemsKey < 0) return parseOne(this.bytes.text(this.begin, end), this.ctx, 'document');
    const itemsEnd = this.itemsEnd >= 0 ? this.itemsEnd : end;
    if (this.indent < 0 || !this.flush(itemsEnd)) return FAILED;
    const head = parseOne(`${this.bytes.text(this.begin, this.itemsKey)}items: []\n${this.bytes.text(itemsEnd, end)}`, this.ctx, 'document');
    if (head === FAILED || !isObject(head) || !Array.isArray(head['items']) || head['items'].length > 0) return FAILED;
    head['items'] = this.items;
    return head;
  }

  /** Parses the current entry, which ends at `until`. */
  private flush(until: number): boolean {
    if (this.entry < 0) return true;
    const piece = ' '.repeat(this.indent + 1) + this.bytes.text(this.entry + this.indent + 1, until);
    const value = parseOne(piece, this.ctx, `document.items[${this.items.length}]`);
    this.entry = -1;
    if (value === FAILED) return false;
    this.items.push(value);
    return true;
  }
}

const FAILED = Symbol('failed');

/** One piece parsed on its own and kept small; FAILED when it does not parse alone (the caller falls back). */
function parseOne(text: string, ctx: Reading, where: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return FAILED;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    const alias = aliasError(e, ctx.source, where);
    if (alias !== null) throw alias;
    return FAILED;
  }
  return ctx.keep(value);
}

// ---- Only what a plan reads is kept ----

/** What the readers of one input share: its name and how a value read is kept. */
interface Reading {
  readonly source: string;
  readonly keep: (value: unknown) => unknown;
}

/**
 * How values read from YAML are kept: cut down (`shrink`), then copied with their strings shared.
 * The yaml library's strings are slices of the text they were read from and would keep all of
 * that text alive; a snapshot repeats most of its strings (namespaces, times, label values, node
 * names), which are kept once.
 */
function keeper(): (value: unknown) => unknown {
  const strings = new Map<string, string>();
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let kept = strings.get(value);
      if (kept === undefined) {
        // Short strings are never slices; a longer one is copied through JSON, which makes it anew.
        kept = value.length < 13 ? value : (JSON.parse(JSON.stringify(value)) as string);
        strings.set(kept, kept);
      }
      return kept;
    }
    if (Array.isArray(value)) return value.map(copy);
    if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return value;
    const out: Raw = {};
    for (const key of Object.keys(value)) {
      if (key === '__proto__') Object.defineProperty(out, key, { value: copy(value[key]), enumerable: true, writable: true, configurable: true });
      else out[key] = copy(value[key]);
    }
    return out;
  };
  return (value) => copy(shrink(value));
}

/**
 * Drops, as soon as an object is read, the fields no plan reads and no check looks at: an
 * object's `metadata.managedFields`; of a Node, all of `spec` but `taints` and `unschedulable` and
 * all of `status` but `conditions`; of a Pod, all of `spec` but `nodeName` and `affinity` and all
 * of `status` but `phase` and `conditions`; all of an object of a kind not read but its `kind` and
 * (empty) `metadata`. Objects that `visit` refuses are left as they are, so it refuses them alike.
 */
function shrink(value: unknown): unknown {
  if (!isObject(value)) return value;
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') return value;
  const items = value['items'];
  if (isList(kind, items)) {
    if (Array.isArray(items)) items.forEach((item, i) => (items[i] = shrink(item)));
    return value;
  }
  const meta = value['metadata'];
  if (!isObject(meta)) return value;
  if (!READ_KINDS.has(kind)) return { kind, metadata: {} };
  delete meta['managedFields'];
  const only = (key: string, fields: readonly string[]): void => {
    const part = value[key];
    if (!isObject(part)) return;
    value[key] = Object.fromEntries(fields.filter((f) => Object.hasOwn(part, f)).map((f) => [f, part[f]]));
  };
  if (kind === 'Node') {
    only('spec', ['taints', 'unschedulable']);
    only('status', ['conditions']);
  } else if (kind === 'Pod') {
    only('spec', ['nodeName', 'affinity']);
    only('status', ['phase', 'conditions']);
  }
  return value;
}

/** `List`, or a `*List` kind with an `items` list: its items are the objects. */
function isList(kind: string, items: unknown): boolean {
  return kind === 'List' || (kind.endsWith('List') && Array.isArray(items));
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
  if (isList(kind, value['items'])) {
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
  if (kind === 'Node') {
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
