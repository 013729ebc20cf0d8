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
  const labels = node.metadata?.labels ?? {};
  return Object.entries(nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * SCHED-4: the node matches a required node selector. Terms are ORed; a term with neither
 * matchExpressions nor matchFields matches nothing; within a term every requirement must hold.
 * A term with an invalid requirement does not match. No non-empty term → no match.
 * An absent selector (no required affinity) matches.
 */
export function requiredNodeAffinityMatches(selector: V1NodeSelector | undefined, node: V1Node): boolean {
  if (selector === undefined) return true;
  return (selector.nodeSelectorTerms ?? []).some((term) => termMatches(term, node));
}

/** One NodeSelectorTerm against a node. */
export function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return exprs.every((r) => labelRequirementMatches(r, labels)) && fields.every((r) => fieldRequirementMatches(r, node));
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
