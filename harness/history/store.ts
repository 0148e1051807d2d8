// The history file: a SQLite database (sql.js: SQLite compiled to WebAssembly, so no native build and
// nothing downloaded at install) holding every recorded run. sql.js works on a copy in memory, so an
// append is read - insert in one transaction - write to a temporary sibling - rename, all under a lock
// directory beside the file: two runs appending at once queue, neither loses the other's rows, and a
// reader always sees a complete file.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import initSqlJs, { type Database, type SqlValue } from "sql.js";
import { acquireLock } from "../util/lock.ts";

export type { Database, SqlValue };

/** Where the history lives: --history, else $PCSHARE_HISTORY, else $XDG_DATA_HOME/pcshare/history.sqlite (~/.local/share/...). */
export function historyFile(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return path.resolve(option);
  if (env.PCSHARE_HISTORY) return path.resolve(env.PCSHARE_HISTORY);
  const data = env.XDG_DATA_HOME || path.join(homedir(), ".local", "share");
  return path.join(data, "pcshare", "history.sqlite");
}

export const SCHEMA_VERSION = 1;

/** runs -> case_results -> measurements; a kernel is (release, source, config hash, series hash). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  run_key TEXT NOT NULL UNIQUE,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  kernel_key TEXT NOT NULL,
  kernel_release TEXT NOT NULL,
  kernel_source TEXT NOT NULL,
  kernel_version TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  kernel_config TEXT NOT NULL,
  kernel_hashes TEXT NOT NULL,
  series_hash TEXT,
  series_spec TEXT,
  pcshare_version TEXT NOT NULL,
  pcshare_commit TEXT,
  host TEXT NOT NULL,
  accel TEXT NOT NULL,
  label TEXT,
  results TEXT,
  recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_kernel ON runs (kernel_key, started_at);
CREATE TABLE IF NOT EXISTS case_results (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  case_id TEXT NOT NULL,
  name TEXT NOT NULL,
  groups TEXT NOT NULL,
  repeat INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('pass','fail','skip','xfail','xpass','error','timeout','missing')),
  raw_outcome TEXT,
  reason TEXT,
  duration_ms REAL NOT NULL,
  known_bugs TEXT
);
CREATE INDEX IF NOT EXISTS case_results_run ON case_results (run_id);
CREATE TABLE IF NOT EXISTS measurements (
  id INTEGER PRIMARY KEY,
  case_result_id INTEGER NOT NULL REFERENCES case_results (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  unit TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('exact','noisy')),
  kind_declared INTEGER NOT NULL,
  better TEXT,
  series TEXT,
  x REAL
);
CREATE INDEX IF NOT EXISTS measurements_name ON measurements (name);
`;

let sql: Promise<initSqlJs.SqlJsStatic> | undefined;

/** A database from the file's bytes (or a new empty one), with the schema in place. */
async function load(file: string): Promise<Database> {
  const SQL = await (sql ??= initSqlJs());
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  let db: Database;
  try {
    db = new SQL.Database(bytes);
    db.exec(SCHEMA);
  } catch (err) {
    throw new Error(`${file}: not a pcshare history database (${(err as Error).message}); give another --history file or move this one away`);
  }
  const version = db.exec("SELECT value FROM meta WHERE key = 'schema'")[0]?.values[0]?.[0];
  if (version === undefined) db.run("INSERT INTO meta (key, value) VALUES ('schema', ?)", [String(SCHEMA_VERSION)]);
  else if (Number(version) > SCHEMA_VERSION) throw new Error(`${file}: history schema ${version} is newer than this pcshare's (${SCHEMA_VERSION}); use a newer pcshare`);
  return db;
}

/** The history for reading (an empty one if the file does not exist yet). Close it when done. */
export async function openHistory(file: string): Promise<Database> {
  return load(file);
}

/**
 * Runs `change` on the database in one transaction and writes the file, under the file's lock. The
 * file is replaced by rename, so readers never see half of it; a failing change writes nothing.
 */
export async function updateHistory<T>(file: string, change: (db: Database) => T): Promise<T> {
  await mkdir(path.dirname(file), { recursive: true });
  const release = await acquireLock(`${file}.lock`);
  try {
    const db = await load(file);
    try {
      db.run("BEGIN");
      let result: T;
      try {
        result = change(db);
        db.run("COMMIT");
      } catch (err) {
        db.run("ROLLBACK");
        throw err;
      }
      const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        await writeFile(tmp, db.export());
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return result;
    } finally {
      db.close();
    }
  } finally {
    await release();
  }
}

/** Rows of a query as objects keyed by column name. */
export function rows<T = Record<string, SqlValue>>(db: Database, query: string, params: SqlValue[] = []): T[] {
  const st = db.prepare(query);
  try {
    st.bind(params);
    const out: T[] = [];
    while (st.step()) out.push(st.getAsObject() as T);
    return out;
  } finally {
    st.free();
  }
}
