// Codes to verify: OTP rows as the email sender leaves them once it has sent the code (pending,
// HMAC(id, code) stored), written in bulk so a verify benchmark is not bounded by how fast codes
// can be sent. Each is checked once: with the right code it takes the `valid: true` path, with a
// wrong one the `invalid` path (each to a destination of its own, so no destination is locked).
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Clock, Otp } from "@pregon/core";
import type postgres from "postgres";

export const code = "424242";
export const wrongCode = "000000";

export interface IssuedOtp {
  id: string;
  code: string;
}

export async function issueOtps(
  sql: postgres.Sql,
  projectId: string,
  count: number,
): Promise<IssuedOtp[]> {
  const now = Clock.now();
  const tag = randomUUID().slice(0, 8);
  const issued: IssuedOtp[] = [];
  for (let start = 0; start < count; start += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, count - start) }, (_, i) => {
      const id = randomUUID();
      issued.push({ id, code });
      return {
        id,
        destination_hmac: Otp.hmac(
          "destination",
          projectId,
          "email",
          `otp-${tag}-${start + i}@pregon.bench`,
        ),
        code_hmac: Otp.hmac(id, code),
      };
    });
    await sql`
      insert into otps (id, project_id, channel, destination_hmac, destination_masked, purpose,
                        length, status, code_hmac, expires_at, created_at)
      select r.id, ${projectId}, 'email', r.destination_hmac, 'o***@pregon.bench', 'login',
             ${code.length}, 'pending', r.code_hmac, ${new Date(now.getTime() + 600_000)}, ${now}
      from json_to_recordset(${sql.json(rows)}::json)
           as r(id uuid, destination_hmac text, code_hmac text)`;
  }
  return issued;
}

/** The verify request bodies, one JSON line each (bench/cannon.ts reads them in order). */
export async function writeVerifyBodies(file: string, otps: IssuedOtp[]) {
  await writeFile(file, `${otps.map((otp) => JSON.stringify(otp)).join("\n")}\n`);
}

/** Codes issued well within their 10 minutes are used; older ones are dropped. */
const freshForMs = 300_000;

/**
 * Pending codes for verify runs, issued in bulk as runs need them, each used by one request; and,
 * afterwards, a check that every code checked took the path its run meant to measure.
 */
export function codePool(sql: postgres.Sql, projectId: string, dir: string) {
  let pool: Array<IssuedOtp & { at: number }> = [];
  const used = { right: [] as string[], wrong: [] as string[] };
  let files = 0;
  return {
    /** A bodies file of at least `needed` unused codes, with the right code or a wrong one. */
    async bodies(needed: number, path: "right" | "wrong"): Promise<string> {
      pool = pool.filter((otp) => otp.at > Date.now() - freshForMs);
      if (pool.length < needed) {
        const at = Date.now();
        const more = await issueOtps(sql, projectId, needed * 2);
        pool = pool.concat(more.map((otp) => ({ ...otp, at })));
      }
      const file = join(dir, `verify-${files++}.jsonl`);
      await writeVerifyBodies(
        file,
        pool.map(({ id }) => ({ id, code: path === "right" ? code : wrongCode })),
      );
      return file;
    },
    /** The first `count` codes of the last bodies file were sent. */
    consume(count: number, path: "right" | "wrong") {
      used[path] = used[path].concat(pool.slice(0, count).map((otp) => otp.id));
      pool = pool.slice(count);
    },
    /** What did not take its path: a right code not verified, a wrong one verified. */
    async check(): Promise<string[]> {
      const failures: string[] = [];
      for (const path of ["right", "wrong"] as const) {
        if (used[path].length === 0) continue;
        const [row] = await sql<{ checked: number; verified: number }[]>`
          select count(*) filter (where attempts > 0)::int as checked,
                 count(*) filter (where status = 'verified')::int as verified
          from otps where id = any(${used[path]}::uuid[])`;
        const { checked, verified } = row!;
        if (path === "right" && verified !== checked) {
          failures.push(`verify: ${checked - verified} right codes checked but not verified`);
        }
        if (path === "wrong" && verified > 0) {
          failures.push(`verify: ${verified} wrong codes verified`);
        }
        if (checked === 0) failures.push(`verify: no ${path} code was checked`);
      }
      return failures;
    },
  };
}
