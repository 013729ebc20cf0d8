/** Label sets of the scenarios (docs/rules.md "Scenarios", fixtures). */
export const L1 = Object.freeze({ name: 'simple-daemon', type: 'production' });
export const L2 = Object.freeze({ name: 'simple-daemon', type: 'test' });
export const NL = Object.freeze({ color: 'blue', speed: 'fast' });
export const NL2 = Object.freeze({ color: 'red', speed: 'fast' });
export const NAMESPACE = 'test';
