/**
 * Node-selector and required-node-affinity matching (SCHED-3, SCHED-4), mirroring
 * component-helpers `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`.
 */
import type { V1Node, V1NodeSelector, V1NodeSelectorRequirement, V1NodeSelectorTerm } from '@kubernetes/client-node';
import { NODE_NAME_FIELD } from './labels.js';

/**
 * SCHED-3: every key/value of `nodeSelector` is present and equal in the node's labels. An
 * absent or empty nodeSelector matches every node.
 */
export function nodeSelectorMatches(nodeSelector: Readonly<Record<string, string>> | undefined, node: V1Node): boolean {
  return nodeSelectorMismatch(nodeSelector, node) === undefined;
}

/**
 * SCHED-3 with its reason: undefined when the node matches, else the first key (in key order) it
 * misses, e.g. `nodeSelector disktype=ssd: node has disktype=hdd`.
 */
export function nodeSelectorMismatch(nodeSelector: Readonly<Record<string, string>> | undefined, node: V1Node): string | undefined {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(nodeSelector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (labels[k] !== v) return `nodeSelector ${k}=${v}: ${nodeHasLabel(labels, k)}`;
  }
  return undefined;
}

function nodeHasLabel(labels: Readonly<Record<string, string>>, key: string): string {
  return Object.prototype.hasOwnProperty.call(labels, key) ? `node has ${key}=${labels[key]}` : `node has no label ${key}`;
}

/**
 * SCHED-4: the node matches a required node selector. Terms are ORed; a term with neither
 * matchExpressions nor matchFields matches nothing; within a term every requirement must hold.
 * A term with an invalid requirement does not match. No non-empty term → no match.
 * An absent selector (no required affinity) matches.
 */
export function requiredNodeAffinityMatches(selector: V1NodeSelector | undefined, node: V1Node): boolean {
  return requiredNodeAffinityMismatch(selector, node) === undefined;
}

/**
 * SCHED-4 with its reason: undefined when the node matches, else why the first term does not
 * (terms are ORed, so every term failed), e.g.
 * `required node affinity term 1: zone In [a,b]: node has zone=c`.
 */
export function requiredNodeAffinityMismatch(selector: V1NodeSelector | undefined, node: V1Node): string | undefined {
  if (selector === undefined) return undefined;
  const terms = selector.nodeSelectorTerms ?? [];
  let first: string | undefined;
  for (const term of terms) {
    const why = termMismatch(term, node);
    if (why === undefined) return undefined;
    first ??= why;
  }
  if (first === undefined) return 'required node affinity has no terms';
  return `required node affinity term 1: ${first}${terms.length > 1 ? ` (and ${terms.length - 1} more term${terms.length > 2 ? 's' : ''} not matched)` : ''}`;
}

/** One NodeSelectorTerm against a node. */
export function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  return termMismatch(term, node) === undefined;
}

/** Why a NodeSelectorTerm does not match a node (its first failing requirement), or undefined. */
export function termMismatch(term: V1NodeSelectorTerm, node: V1Node): string | undefined {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return 'empty term matches no node';
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!labelRequirementMatches(r, labels)) return `${requirementText(r)}: ${nodeHasLabel(labels, r.key)}`;
  for (const r of fields) if (!fieldRequirementMatches(r, node)) return `${requirementText(r)}: node is ${node.metadata?.name ?? ''}`;
  return undefined;
}

function requirementText(r: V1NodeSelectorRequirement): string {
  const values = r.values ?? [];
  return values.length > 0 ? `${r.key} ${r.operator} [${values.join(',')}]` : `${r.key} ${r.operator}`;
}

/** A label requirement: In, NotIn, Exists, DoesNotExist, Gt, Lt (integers). Invalid → false. */
export function labelRequirementMatches(req: V1NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const values = req.values ?? [];
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case 'In':
      return values.length > 0 && has && values.includes(value as string);
    case 'NotIn':
      return values.length > 0 && !(has && values.includes(value as string));
    case 'Exists':
      return values.length === 0 && has;
    case 'DoesNotExist':
      return values.length === 0 && !has;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1) return false;
      const bound = parseInteger(values[0]);
      if (bound === undefined || !has) return false;
      const actual = parseInteger(value);
      if (actual === undefined) return false;
      return req.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** A field requirement: only `metadata.name`, In/NotIn, exactly one value. Invalid → false. */
export function fieldRequirementMatches(req: V1NodeSelectorRequirement, node: V1Node): boolean {
  const values = req.values ?? [];
  if (req.key !== NODE_NAME_FIELD || values.length !== 1) return false;
  const name = node.metadata?.name ?? '';
  if (req.operator === 'In') return values[0] === name;
  if (req.operator === 'NotIn') return values[0] !== name;
  return false;
}

/** Parses a base-10 integer the way Go's strconv.ParseInt does (no spaces, optional sign). */
export function parseInteger(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return undefined;
  return BigInt(text);
}
