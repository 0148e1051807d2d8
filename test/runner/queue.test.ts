// The work queue of a --jobs run, without guests: each planned index is handed out once, in the
// selected order; results keep that order whatever order the workers finish in; the progress
// counter counts completions; a worker that throws halts the queue, the others take nothing more,
// what they had finished stays and the rest is reported as unfinished.
import { describe, expect, it } from "vitest";
import { WorkQueue, runWorkers } from "../../harness/runner/queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WorkQueue and runWorkers", () => {
  it("hands out each index once, in order, and keeps results in index order whatever finishes first", async () => {
    // Index 0 finishes only once all the others have (no timers: the order is forced, not hoped for).
    const queue = new WorkQueue<string>(6);
    const taken: number[] = [];
    const progress: [string, number][] = [];
    const byWorker = new Map<number, number[]>();
    let othersDone!: () => void;
    const allOthersDone = new Promise<void>((r) => (othersDone = r));
    await runWorkers(queue, 3, async (w, q) => {
      for (let i = q.take(); i !== undefined; i = q.take()) {
        taken.push(i);
        byWorker.set(w, [...(byWorker.get(w) ?? []), i]);
        await (i === 0 ? allOthersDone : sleep(1));
        progress.push([`r${i}`, q.record(i, `r${i}`)]);
        if (q.done === 5 && i !== 0) othersDone();
      }
    });
    expect(taken).toEqual([0, 1, 2, 3, 4, 5]);
    expect(queue.results).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    expect(progress.map(([, n]) => n)).toEqual([1, 2, 3, 4, 5, 6]); // the [i/n] counter: completions
    expect(progress[progress.length - 1][0]).toBe("r0"); // finished last, still first in the results
    expect(byWorker.size).toBe(3); // all three workers took work
    expect(queue.unfinished()).toEqual([]);
  });

  it("with one worker runs the plan strictly one after another (--jobs 1)", async () => {
    const queue = new WorkQueue<number>(4);
    const events: string[] = [];
    await runWorkers(queue, 1, async (_w, q) => {
      for (let i = q.take(); i !== undefined; i = q.take()) {
        events.push(`start ${i}`);
        await sleep(2);
        events.push(`end ${i}`);
        q.record(i, i);
      }
    });
    expect(events).toEqual(["start 0", "end 0", "start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
  });

  it("halts on the first worker error: onHalt once, no more work taken, the rest unfinished, that error thrown", async () => {
    const queue = new WorkQueue<number>(10);
    let halts = 0;
    const boom = new Error("boom at 2");
    const run = runWorkers(
      queue,
      2,
      async (_w, q) => {
        for (let i = q.take(); i !== undefined; i = q.take()) {
          await sleep(i === 2 ? 1 : 15);
          if (i === 2) throw boom;
          if (q.halted) throw new Error(`stopped at ${i}`); // what a worker whose guest was killed meets
          q.record(i, i);
        }
      },
      () => void halts++,
    );
    await expect(run).rejects.toBe(boom);
    expect(halts).toBe(1);
    expect(queue.results.slice(0, 2)).toEqual([0, 1]);
    expect(queue.unfinished()).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.take()).toBeUndefined();
  });

  it("refuses a result recorded twice (two workers must never run the same index)", () => {
    const queue = new WorkQueue<number>(2);
    queue.record(0, 1);
    expect(() => queue.record(0, 2)).toThrow(/recorded twice/);
  });
});
