/**
 * Virtual time for the network between the in-memory API server and its clients: watch events on
 * their way, and the list cache's wait timers. Tasks run in (time, order of scheduling) order, one
 * per turn of the event loop (setImmediate), so a task runs only once every promise chain that can
 * move has moved: API calls take no virtual time, and a pass that waits for an event or a timer
 * lets everything else run first. A run is reproducible: nothing depends on the wall clock.
 */
interface Task {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class VirtualScheduler {
  #now = 0;
  #seq = 0;
  #tasks: Task[] = [];
  #pumping = false;
  #closed = false;

  /** Milliseconds of virtual time since the scheduler was made. */
  get now(): number {
    return this.#now;
  }

  /** Tasks waiting (cancelled ones excluded). */
  get pending(): number {
    return this.#tasks.filter((t) => !t.cancelled).length;
  }

  /** Runs `fn` `ms` from now (after every task already due then); returns a cancel. */
  after(ms: number, fn: () => void): () => void {
    if (this.#closed) return () => undefined;
    const task: Task = { at: this.#now + Math.max(0, ms), seq: (this.#seq += 1), fn, cancelled: false };
    // Sorted insert, from the end: most tasks are due after every task already waiting.
    let i = this.#tasks.length;
    while (i > 0 && before(task, this.#tasks[i - 1] as Task)) i -= 1;
    this.#tasks.splice(i, 0, task);
    this.#pump();
    return () => {
      task.cancelled = true;
    };
  }

  /** A timer for WatchedCollectionOptions.setTimer. */
  readonly setTimer = (fn: () => void, ms: number): (() => void) => this.after(ms, fn);

  /** Drops every waiting task; nothing runs afterwards. */
  close(): void {
    this.#closed = true;
    this.#tasks = [];
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      let task = this.#tasks.shift();
      while (task?.cancelled) task = this.#tasks.shift();
      if (task === undefined) return;
      this.#now = Math.max(this.#now, task.at);
      if (this.#tasks.length > 0) this.#pump();
      task.fn();
    });
  }
}

const before = (a: Task, b: Task): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
