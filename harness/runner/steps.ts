// Owns: the record of what a case asked the guest: every agent request in the order sent, the pause
// the host took before it, a shortened copy of its reply, and how many checks the case had recorded
// when the reply came back (so each check can be tied to the step whose reply it judged). Written
// beside the console log as steps.json; `pcshare repro` replays it in a guest with nothing but QEMU.
import type { AgentTap } from "../guest/agent-client.ts";

export interface RecordedStep {
  /** The request as sent, without its id: { op, ...args }. */
  request: Record<string, unknown>;
  /** Request id on the wire (replies and pid references name steps by it). */
  id: number;
  /** Host time between the previous reply (or the case's start) and this request, ms. */
  delayMs: number;
  /** The reply (shortened: long strings cut, long arrays summarised); absent when none came. */
  reply?: Record<string, unknown>;
  /** Checks the case had recorded when the reply arrived. */
  checksAtReply?: number;
}

export interface StepRecord {
  schema: "pcshare-steps/1";
  steps: RecordedStep[];
}

const MAX_STRING = 400;
const MAX_ITEMS = 16;

/** Records a case's traffic; attach as the agent client's tap while the case (and its reset) runs. */
export class StepRecorder implements AgentTap {
  readonly steps: RecordedStep[] = [];
  private readonly byId = new Map<number, RecordedStep>();
  private last = Date.now();

  constructor(private readonly checkCount: () => number) {}

  request(id: number, op: string, args: Record<string, unknown>): void {
    const now = Date.now();
    const step: RecordedStep = { id, request: { op, ...args }, delayMs: Math.max(0, now - this.last) };
    this.last = now;
    this.steps.push(step);
    this.byId.set(id, step);
  }

  reply(id: number, reply: Record<string, unknown>): void {
    const step = this.byId.get(id);
    this.last = Date.now();
    if (!step) return;
    step.reply = shorten(reply) as Record<string, unknown>;
    step.checksAtReply = this.checkCount();
  }

  record(): StepRecord {
    return { schema: "pcshare-steps/1", steps: this.steps };
  }
}

/** A copy of a JSON value with long strings cut and long arrays reduced to their first items. */
export function shorten(v: unknown): unknown {
  if (typeof v === "string") return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}... (${v.length} chars)` : v;
  if (Array.isArray(v)) return v.length > MAX_ITEMS ? [...v.slice(0, MAX_ITEMS).map(shorten), `... (${v.length} items)`] : v.map(shorten);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x)]));
  return v;
}
