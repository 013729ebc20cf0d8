/**
 * DaemonSet validation as the API server performs it (API-2..4), for inputs that did not come
 * through an API server (CLI snapshots) and for the shell's terminal-error check.
 */
import type { IntOrString, V1DaemonSet } from '@kubernetes/client-node';
import { parsePercent } from './int-or-percent.js';
import { compileSelector } from './label-selector.js';
import type { ValidationProblem } from './types.js';

/**
 * Returns every problem the API server would reject the DaemonSet for, among:
 * missing name; missing/empty/invalid selector or one that does not match the template labels
 * (API-2); restartPolicy other than Always, activeDeadlineSeconds, no containers, negative
 * minReadySeconds or revisionHistoryLimit (API-3); unknown strategy type, malformed or > 100%
 * budgets, both budgets zero or both non-zero (API-4). Missing optional fields take API defaults.
 * An empty list means valid. Mirrors `ValidateDaemonSet` in spirit (not every check).
 */
export function validateDaemonSet(ds: V1DaemonSet): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const add = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  if (!ds.metadata?.name) add('metadata.name', 'name is required');
  const spec = ds.spec;
  if (!spec) {
    add('spec', 'spec is required');
    return problems;
  }

  const selector = compileSelector(spec.selector);
  const templateLabels = spec.template?.metadata?.labels ?? {};
  if (!spec.selector) add('spec.selector', 'selector is required');
  else if (!selector.ok) add('spec.selector', selector.error);
  else if (selector.empty) add('spec.selector', 'empty selector is invalid for daemonset');
  else if (!selector.matches(templateLabels)) add('spec.template.metadata.labels', '`selector` does not match template `labels`');

  const podSpec = spec.template?.spec;
  if (!spec.template) add('spec.template', 'template is required');
  if (!podSpec?.containers || podSpec.containers.length === 0) add('spec.template.spec.containers', 'at least one container is required');
  if (podSpec?.restartPolicy !== undefined && podSpec.restartPolicy !== 'Always') {
    add('spec.template.spec.restartPolicy', `unsupported value "${podSpec.restartPolicy}": must be Always`);
  }
  if (podSpec?.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    add('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not supported');
  }
  if ((spec.minReadySeconds ?? 0) < 0) add('spec.minReadySeconds', 'must be greater than or equal to 0');
  if ((spec.revisionHistoryLimit ?? 0) < 0) add('spec.revisionHistoryLimit', 'must be greater than or equal to 0');

  const type = spec.updateStrategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate' && type !== 'OnDelete') {
    add('spec.updateStrategy.type', `unsupported value "${type}": must be RollingUpdate or OnDelete`);
  } else if (type === 'RollingUpdate') {
    const ru = spec.updateStrategy?.rollingUpdate;
    const mu = checkBudget('spec.updateStrategy.rollingUpdate.maxUnavailable', ru?.maxUnavailable ?? 1, add);
    const ms = checkBudget('spec.updateStrategy.rollingUpdate.maxSurge', ru?.maxSurge ?? 0, add);
    if (mu !== undefined && ms !== undefined) {
      if (mu === 0 && ms === 0) add('spec.updateStrategy.rollingUpdate.maxUnavailable', 'cannot be 0 when maxSurge is 0');
      else if (mu !== 0 && ms !== 0) add('spec.updateStrategy.rollingUpdate.maxSurge', 'may not be set when maxUnavailable is non-zero');
    }
  }
  return problems;
}

/** A non-negative int or `"N%"` with N ≤ 100; returns its magnitude (for the zero checks). */
function checkBudget(field: string, value: IntOrString, add: (field: string, message: string) => void): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      add(field, `must be a non-negative integer or a percentage, got ${value}`);
      return undefined;
    }
    return value;
  }
  const pct = /^\d+%$/.test(value) ? parsePercent(value) : undefined;
  if (pct === undefined) {
    add(field, `a valid percent string must be a numeric string followed by an ending '%', got "${value}"`);
    return undefined;
  }
  if (pct > 100) {
    add(field, `must not be greater than 100%, got "${value}"`);
    return undefined;
  }
  return pct;
}
