// Owns: the building blocks of the image spec schemas (spec-schema.ts, spec-xattrs.ts): one problem text per
// kind of mistake (says), custom issues at a path (problem), strict mappings whose unknown-key message lists
// the keys allowed, and mappings told apart by which key they have (byKey).
import { z } from "zod";

export const show = (v: unknown) => JSON.stringify(v);
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** One problem text for every issue a schema raises; `missing` (if given) when the key is absent. */
export const says = (bad: (input: unknown) => string, missing?: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined && missing !== undefined ? missing : bad(iss.input)),
});
export type Ctx = z.core.$RefinementCtx;
/** Report a problem at `path` (relative to the value being checked); `key` puts it on the key's line. */
export function problem(ctx: Ctx, input: unknown, message: string, path: PropertyKey[] = [], key = false): typeof z.NEVER {
  ctx.addIssue({ code: "custom", input, message, path, params: key ? { key: true } : undefined });
  return z.NEVER;
}

/** A mapping with exactly these keys; an unknown key is named with the keys allowed here. */
export function strict<S extends z.core.$ZodLooseShape>(shape: S, msgs: { notObject?: string; unknownKey?: (k: string) => string } = {}) {
  const unknownKey = msgs.unknownKey ?? ((k: string) => `unknown key "${k}" (expected one of: ${Object.keys(shape).join(", ")})`);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? unknownKey(iss.keys[0]) : iss.code === "invalid_type" ? msgs.notObject : undefined),
  });
}

/**
 * A mapping told apart by which one of `kinds`' keys it has (gen:, symlink:, dir:, ...); the schema of
 * that kind parses the whole mapping. Without any of them, `otherwise` parses it (or `none` is the problem).
 */
export function byKey(
  kinds: Record<string, z.ZodType>,
  msgs: { notObject: string; none?: string; many?: (present: string[]) => string },
  otherwise?: z.ZodType,
) {
  return z.unknown().transform((v, ctx) => {
    if (!isObj(v)) return problem(ctx, v, msgs.notObject);
    const present = Object.keys(kinds).filter((k) => v[k] !== undefined);
    if (present.length > 1) return problem(ctx, v, msgs.many?.(present) ?? msgs.notObject);
    const schema = present.length ? kinds[present[0]] : otherwise;
    if (!schema) return problem(ctx, v, msgs.none ?? msgs.notObject);
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    for (const iss of r.error.issues) ctx.issues.push({ ...iss, input: v } as (typeof ctx.issues)[number]);
    return z.NEVER;
  });
}
