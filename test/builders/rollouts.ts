import { at, T0 } from './clock.js';
import { daemonSet } from './daemon-set.js';
import { nodes } from './node.js';
import { converge, markReady, updateDaemonSet, world, type World } from './world.js';

/**
 * A DaemonSet with these annotations on 3 nodes, converged and Ready at revision 1, then updated to
 * a new image and converged as far as its rollout controls let it (pods marked Ready along the way).
 */
export function rolledAsFarAsControlsLet(annotations: Record<string, string>): World {
  const v1 = daemonSet().annotations(annotations);
  let w = markReady(converge(world(v1.build(), nodes(3)), T0).world, T0);
  w = converge(w, at(1)).world;
  w = updateDaemonSet(w, v1.update((b) => b.image('foo/bar:2')).build());
  w = converge(markReady(converge(w, at(2)).world, at(2)), at(3)).world;
  return converge(markReady(w, at(3)), at(4)).world;
}
