/**
 * DaemonSet accessors that apply the API defaults (API-1) so the rest of the core never sees an
 * undefined strategy, limit or budget.
 */
import type { IntOrString, V1DaemonSet } from '@kubernetes/client-node';
import {
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_REVISION_HISTORY_LIMIT,
  TEMPLATE_GENERATION_ANNOTATION,
} from './labels.js';
import { resolveIntOrPercent } from './int-or-percent.js';

/** `updateStrategy.type`, default RollingUpdate. */
export function updateStrategyType(ds: V1DaemonSet): string {
  return ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
}

/** `maxUnavailable` / `maxSurge` with defaults (1 / 0) for a RollingUpdate DaemonSet. */
export function rollingUpdateParams(ds: V1DaemonSet): { readonly maxUnavailable: IntOrString; readonly maxSurge: IntOrString } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  return {
    maxUnavailable: ru?.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
    maxSurge: ru?.maxSurge ?? DEFAULT_MAX_SURGE,
  };
}

/** `minReadySeconds`, default 0. */
export function minReadySeconds(ds: V1DaemonSet): number {
  return ds.spec?.minReadySeconds ?? 0;
}

/** `revisionHistoryLimit`, default 10. */
export function revisionHistoryLimit(ds: V1DaemonSet): number {
  return ds.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
}

/**
 * Surge mode, mirrors `util.AllowsSurge`: RollingUpdate and maxSurge resolves to > 0 against one
 * node. OnDelete is never surge.
 */
export function allowsSurge(ds: V1DaemonSet): boolean {
  if (updateStrategyType(ds) !== 'RollingUpdate') return false;
  const r = resolveIntOrPercent(rollingUpdateParams(ds).maxSurge, 1);
  return r.ok && r.value > 0;
}

/**
 * The template generation from the `deprecated.daemonset.template.generation` annotation, as a
 * decimal string, or undefined when absent or unparsable. Mirrors `util.GetTemplateGeneration`.
 */
export function templateGeneration(ds: V1DaemonSet): string | undefined {
  const raw = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (raw === undefined || !/^[+-]?\d+$/.test(raw)) return undefined;
  return BigInt(raw).toString();
}
