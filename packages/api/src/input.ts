import { TRPCError } from "@trpc/server";
import { z } from "zod";

/** How deep an input may nest: far more than any procedure's fields, far less than a stack. */
export const maxDepth = 32;

/** Postgres text refuses NUL; jsonb refuses unpaired surrogates (it stores UTF-8). */
function flawOf(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain NUL characters (\\u0000)";
  if (/\p{Surrogate}/u.test(text)) return "must not contain unpaired UTF-16 surrogates";
  return undefined;
}

type Unsafe = { path: (string | number)[]; message: string };

/**
 * The first part of a raw input (parsed JSON, or query and path parameters) that no schema should
 * see: a string or key Postgres cannot store, or a value nested deeper than `maxDepth`, which
 * recursion further on (JSON.stringify of a jsonb column) would not survive.
 */
function firstUnsafe(input: unknown): Unsafe | undefined {
  const path: (string | number)[] = [];
  const issue = (message: string): Unsafe => ({ path: [...path], message });
  const visit = (value: unknown): Unsafe | undefined => {
    if (typeof value === "string") {
      const flaw = flawOf(value);
      return flaw ? issue(flaw) : undefined;
    }
    if (typeof value !== "object" || value === null) return undefined;
    if (path.length >= maxDepth) return issue(`must not nest more than ${maxDepth} levels deep`);
    const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
    for (const key of keys) {
      path.push(key);
      const keyFlaw = typeof key === "string" ? flawOf(key) : undefined;
      const found = keyFlaw
        ? issue(`its name ${keyFlaw}`)
        : visit((value as Record<string | number, unknown>)[key]);
      path.pop();
      if (found) return found;
    }
    return undefined;
  };
  return visit(input);
}

/** Any input, refused (as invalid input naming the field) where `firstUnsafe` finds something. */
const SafeInput = z.unknown().superRefine((input, ctx) => {
  const issue = firstUnsafe(input);
  if (issue) ctx.addIssue({ code: "custom", ...issue });
});

/** Throws as a procedure's own input parser does: BAD_REQUEST with zod's error. */
export function assertSafeInput(input: unknown): void {
  const parsed = SafeInput.safeParse(input);
  if (!parsed.success) throw new TRPCError({ code: "BAD_REQUEST", cause: parsed.error });
}
