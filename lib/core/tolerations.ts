/**
 * Taints and tolerations (SCHED-5, SCHED-6) and the default daemon tolerations (POD-4).
 */
import type { V1Taint, V1Toleration } from '@kubernetes/client-node';
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from './labels.js';
import { parseInteger } from './node-affinity.js';

/**
 * The default tolerations every daemon pod gets, in upstream order (POD-4; mirrors
 * `AddOrUpdateDaemonPodTolerations`). The network-unavailable one only with hostNetwork.
 */
export function defaultDaemonTolerations(hostNetwork: boolean): V1Toleration[] {
  const list: V1Toleration[] = [
    { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_DISK_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_MEMORY_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_PID_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) list.push({ key: TAINT_NETWORK_UNAVAILABLE, operator: 'Exists', effect: 'NoSchedule' });
  return list;
}

/**
 * Adds the default tolerations to a list, mirroring `AddOrUpdateTolerationInPodSpec` per default:
 * tolerations with the same (key, operator, value, effect) are replaced in place by the default
 * unless deep-equal to it (so a user `tolerationSeconds` on them is dropped); otherwise the default
 * is appended. Returns a new list; the input is not modified.
 */
export function withDefaultDaemonTolerations(tolerations: readonly V1Toleration[] | undefined, hostNetwork: boolean): V1Toleration[] {
  let list: V1Toleration[] = (tolerations ?? []).map((t) => ({ ...t }));
  for (const def of defaultDaemonTolerations(hostNetwork)) {
    if (list.some((t) => sameToleration(t, def) && tolerationDeepEqual(t, def))) continue;
    let replaced = false;
    list = list.map((t) => {
      if (!sameToleration(t, def)) return t;
      replaced = true;
      return { ...def };
    });
    if (!replaced) list.push({ ...def });
  }
  return list;
}

/** `Toleration.MatchToleration`: same key, operator, value and effect (exact strings). */
function sameToleration(a: V1Toleration, b: V1Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
}

function tolerationDeepEqual(a: V1Toleration, b: V1Toleration): boolean {
  return sameToleration(a, b) && (a.tolerationSeconds ?? null) === (b.tolerationSeconds ?? null);
}

/**
 * SCHED-6, mirrors `Toleration.ToleratesTaint`: effect empty or equal; key empty or equal;
 * Exists matches any value, Equal/empty needs equal values, Lt/Gt compare integers.
 * `tolerationSeconds` is ignored.
 */
export function toleratesTaint(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    case 'Lt':
    case 'Gt': {
      const tv = parseInteger(taint.value);
      const lv = parseInteger(toleration.value);
      if (tv === undefined || lv === undefined) return false;
      return toleration.operator === 'Lt' ? tv < lv : tv > lv;
    }
    default:
      return false;
  }
}

/** True when some toleration of the list tolerates the taint. */
export function isTaintTolerated(taint: V1Taint, tolerations: readonly V1Toleration[]): boolean {
  return tolerations.some((t) => toleratesTaint(t, taint));
}
