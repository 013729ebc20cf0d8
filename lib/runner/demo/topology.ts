/** The demo cluster of the DaemonSet tutorial: one tainted control-plane node and four workers. */
export const DEMO_MASTER = 'ydzs-master';
export const DEMO_WORKERS = ['ydzs-node1', 'ydzs-node2', 'ydzs-node3', 'ydzs-node4'] as const;

export interface DemoNode {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly taints: { key: string; effect: 'NoSchedule' }[];
}

export const DEMO_NODES: readonly DemoNode[] = [
  {
    name: DEMO_MASTER,
    labels: { 'node-role.kubernetes.io/control-plane': '' },
    taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
  },
  ...DEMO_WORKERS.map((name) => ({ name, labels: {}, taints: [] })),
];

export const DEMO_MANIFEST = new URL('./nginx-ds.yaml', import.meta.url);
