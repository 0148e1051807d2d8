// Test helpers: spawn the host-built agent with --stdio, either behind an AgentClient or as a raw
// line pipe (for feeding it malformed input), plus scratch directories on a real disk filesystem.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Duplex } from "node:stream";
import path from "node:path";
import { buildAgent } from "../../harness/guest/build-agent.ts";
import { expect } from "vitest";
import { AgentClient, AgentError } from "../../harness/guest/agent-client.ts";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedAgent {
  child: ChildProcess;
  exited: Promise<Exit>;
}

export async function spawnAgent(): Promise<SpawnedAgent> {
  const bin = await buildAgent();
  const child = spawn(bin, ["--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

export async function startClient(): Promise<{ client: AgentClient } & SpawnedAgent> {
  const agent = await spawnAgent();
  const stream = Duplex.from({ readable: agent.child.stdout!, writable: agent.child.stdin! });
  return { client: new AgentClient(stream), ...agent };
}

/** The agent without a client: write arbitrary lines, read replies in order. */
export class RawAgent {
  private readonly queue: string[] = [];
  private readonly waiters: ((line: string) => void)[] = [];

  constructor(readonly agent: SpawnedAgent) {
    const rl = createInterface({ input: agent.child.stdout!, crlfDelay: Infinity });
    rl.on("line", (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.queue.push(line);
    });
  }

  static async start(): Promise<RawAgent> {
    return new RawAgent(await spawnAgent());
  }

  send(text: string): void {
    this.agent.child.stdin!.write(text);
  }

  next(timeoutMs = 10_000): Promise<Record<string, any>> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply line from agent")), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  }

  /** Send one line and return the next reply. */
  async roundtrip(line: string): Promise<Record<string, any>> {
    this.send(line + "\n");
    return this.next();
  }

  async stop(): Promise<Exit> {
    this.agent.child.stdin!.end();
    return this.agent.exited;
  }
}

/** A scratch directory under /var/tmp (a real disk filesystem, unlike tmpfs /tmp on many hosts). */
export async function scratchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join("/var/tmp", "pcshare-agent-test-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The AgentError a call that must fail rejects with (fails the test when the call succeeds). */
export async function remoteError(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AgentError);
    return err as AgentError;
  }
  throw new Error("expected the agent call to fail");
}
