// Codes to verify: OTP rows as the email sender leaves them once it has sent the code (pending,
// HMAC(id, code) stored), written in bulk so a verify benchmark is not bounded by how fast codes
// can be sent. Each is valid once: verifying them in order takes the `valid: true` path.
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Clock, Otp } from "@pregon/core";
import type postgres from "postgres";

export const code = "424242";

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
          `otp${start + i}@pregon.bench`,
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
