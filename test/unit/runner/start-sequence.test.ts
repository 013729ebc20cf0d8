import { describe, expect, it } from 'vitest';
import { StartInterrupted, StartSequence } from '../../../lib/runner/start-sequence.js';

/** A part that records when it starts and stops. */
function part(log: string[], name: string, fail?: Error) {
  return {
    start: async () => {
      if (fail) throw fail;
      log.push(`start ${name}`);
      return name;
    },
    stop: async (started: string) => {
      log.push(`stop ${started}`);
    },
  };
}

describe('StartSequence', () => {
  it('stops what already started, newest first, when a later step fails, and reports that failure', async () => {
    const log: string[] = [];
    const sequence = new StartSequence();
    const a = part(log, 'plane');
    const b = part(log, 'pipeline');
    await sequence.start('plane', a.start, a.stop);
    await sequence.start('pipeline', b.start, b.stop);
    const failing = sequence.step('demo', () => Promise.reject(new Error('kubectl apply failed')));
    await expect(failing).rejects.toThrow('kubectl apply failed');
    expect(log).toEqual(['start plane', 'start pipeline', 'stop pipeline', 'stop plane']);
  });

  it('stops what started when the signal is aborted while a step runs, that step included', async () => {
    const log: string[] = [];
    const abort = new AbortController();
    const sequence = new StartSequence(abort.signal);
    const a = part(log, 'plane');
    await sequence.start('plane', a.start, a.stop);
    const interrupted = sequence.start('pipeline', async () => {
      abort.abort();
      log.push('start pipeline');
      return 'pipeline';
    }, async (p) => { log.push(`stop ${p}`); });
    await expect(interrupted).rejects.toBeInstanceOf(StartInterrupted);
    expect(log).toEqual(['start plane', 'start pipeline', 'stop pipeline', 'stop plane']);
    await expect(sequence.step('more', () => log.push('never'))).rejects.toBeInstanceOf(StartInterrupted);
    expect(log).not.toContain('never');
  });

  it('keeps stopping the others when one stop fails, and reports it', async () => {
    const log: string[] = [];
    const failures: string[] = [];
    const sequence = new StartSequence(undefined, (what, e) => failures.push(`${what}: ${(e as Error).message}`));
    await sequence.start('a', () => 'a', () => { log.push('stop a'); });
    await sequence.start('b', () => 'b', () => { throw new Error('already gone'); });
    await sequence.start('c', () => 'c', () => { log.push('stop c'); });
    await sequence.stop();
    expect(log).toEqual(['stop c', 'stop a']);
    expect(failures).toEqual(['b: already gone']);
  });

  it('stops each part once, however often stop() is called', async () => {
    const log: string[] = [];
    const sequence = new StartSequence();
    await sequence.start('a', () => 'a', () => { log.push('stop a'); });
    await Promise.all([sequence.stop(), sequence.stop()]);
    await sequence.stop();
    expect(log).toEqual(['stop a']);
  });
});
