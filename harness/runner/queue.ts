// Hands the planned runs of a suite to N workers: each worker takes the next index not yet taken,
// in the selected order, until the plan is done or the queue is halted. Results are kept by index
// so that the run's result list keeps the selected order whatever order the workers finish in;
// `done` counts completions for the progress counter. The first worker that throws halts the queue
// (the others take nothing more) and its error is the one reported.

export class WorkQueue<R> {
  private nextIndex = 0;
  private completed = 0;
  private haltReason?: unknown;
  /** Results by plan index; undefined where nothing was recorded. */
  readonly results: (R | undefined)[];

  constructor(readonly total: number) {
    this.results = new Array<R | undefined>(total).fill(undefined);
  }

  /** The next index to run, or undefined when the plan is done or the queue halted. */
  take(): number | undefined {
    if (this.halted || this.nextIndex >= this.total) return undefined;
    return this.nextIndex++;
  }

  /** Record the result of index `i`; returns how many results there are now (the progress counter). */
  record(i: number, r: R): number {
    if (this.results[i] !== undefined) throw new Error(`result ${i} recorded twice`);
    this.results[i] = r;
    return ++this.completed;
  }

  get done(): number {
    return this.completed;
  }

  get halted(): boolean {
    return this.haltReason !== undefined;
  }

  /** Stop handing out work; the first reason wins. */
  halt(reason: unknown): void {
    this.haltReason ??= reason ?? new Error("halted");
  }

  get reason(): unknown {
    return this.haltReason;
  }

  /** Indexes with no result yet, in order. */
  unfinished(): number[] {
    return this.results.flatMap((r, i) => (r === undefined ? [i] : []));
  }
}

/**
 * Run `workers` loops of `work` over the queue at once and wait for all of them. A worker that throws
 * halts the queue and `onHalt` is called once (to stop the others' work in progress); after every
 * worker has ended, the first error is thrown.
 */
export async function runWorkers<R>(
  queue: WorkQueue<R>,
  workers: number,
  work: (worker: number, queue: WorkQueue<R>) => Promise<void>,
  onHalt: () => Promise<void> | void = () => {},
): Promise<void> {
  let halting: Promise<void> | undefined;
  const loops = Array.from({ length: Math.max(1, workers) }, (_, w) =>
    work(w, queue).catch(async (err: unknown) => {
      const first = !queue.halted;
      queue.halt(err);
      if (first) halting = Promise.resolve(onHalt());
      throw err;
    }),
  );
  await Promise.allSettled(loops);
  await halting;
  if (queue.halted) throw queue.reason;
}
