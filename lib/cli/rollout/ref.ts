/**
 * `<ref>` of the rollout commands (spec rollout-cli.md): `TYPE/NAME` or `TYPE NAME`, where TYPE names
 * the native `apps/v1` DaemonSet or the project's `daemonless.io/v1` DaemonSet. Pure.
 */
import type { DaemonSetKind } from '../../adapters/kube/rollout-client.js';
import type { KindName } from './kubectl-text.js';

const NATIVE_TYPES = new Set([
  'daemonset', 'daemonsets', 'ds',
  'daemonset.apps', 'daemonsets.apps', 'ds.apps',
  'daemonset.v1.apps', 'daemonsets.v1.apps',
]);
const CRD_TYPES = new Set([
  'dlds',
  'daemonset.daemonless.io', 'daemonsets.daemonless.io', 'dlds.daemonless.io',
  'daemonset.v1.daemonless.io', 'daemonsets.v1.daemonless.io',
]);

/** How kubectl names each kind in its output and errors. */
export const KIND_NAMES: Readonly<Record<DaemonSetKind, KindName>> = {
  native: { kind: 'daemonset.apps', resource: 'daemonsets.apps' },
  crd: { kind: 'daemonset.daemonless.io', resource: 'daemonsets.daemonless.io' },
};

export type ParsedRef =
  | { readonly ok: true; readonly kind: DaemonSetKind; readonly name: string }
  /** `usage`: exit 2 with the usage; otherwise kubectl's error line, exit 1. */
  | { readonly ok: false; readonly usage: boolean; readonly message: string };

/** Parses `TYPE/NAME` (with `second` undefined) or `TYPE NAME`. */
export function parseRef(first: string, second: string | undefined): ParsedRef {
  let type: string;
  let name: string | undefined;
  const slash = first.indexOf('/');
  if (slash >= 0) {
    if (second !== undefined) return { ok: false, usage: true, message: `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'daemonless rollout status ds/NAME' instead of 'daemonless rollout status ds ds/NAME')` };
    type = first.slice(0, slash);
    name = first.slice(slash + 1);
  } else {
    type = first;
    name = second;
  }
  const lower = type.toLowerCase();
  const kind: DaemonSetKind | undefined = NATIVE_TYPES.has(lower) ? 'native' : CRD_TYPES.has(lower) ? 'crd' : undefined;
  if (kind === undefined) {
    return { ok: false, usage: false, message: `error: the server doesn't have a resource type "${type}"` };
  }
  if (!name) return { ok: false, usage: true, message: 'a DaemonSet name is required: TYPE/NAME or TYPE NAME' };
  if (name.includes('/')) return { ok: false, usage: true, message: `arguments in resource/name form must have a single resource and name: "${first}"` };
  return { ok: true, kind, name };
}
