// What a TypeScript team would otherwise run for one-time codes by email: Better Auth with its
// email-OTP plugin, on the bench's Postgres (a database of its own, migrated by Better Auth's own
// migration API), served by Hono on @hono/node-server as Better Auth documents it (and as Pregón
// serves). Email goes nowhere: the send callback keeps each code so the bench can verify it.
//
//   node --import tsx bench/betterauth-server.ts '<BetterAuthConfig as JSON>'   (bench/child.ts)
//
// A second loopback port takes the bench's controls: `POST /users-and-codes {prefix, count}`
// creates that many verified users and asks Better Auth to send each a sign-in code, and answers
// with `{email, otp}` lines.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { emailOTP } from "better-auth/plugins";
import { Hono } from "hono";
import pg from "pg";
import { serving } from "./child";

export interface BetterAuthConfig {
  /** Its own database on the bench's Postgres, as the owner. */
  databaseUrl: string;
}

const config = JSON.parse(process.argv[2]!) as BetterAuthConfig;
// As many connections as Pregón's pool (packages/core/src/db).
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
const sent = new Map<string, string>();

const auth = betterAuth({
  database: pool,
  baseURL: "http://127.0.0.1",
  secret: "bench-better-auth-secret-0123456789abcdefghijklmnop",
  // Its limiter (on by default in production) allows 3 checks a minute per client address: the
  // benchmark is one address. Pregón's verify has no such limiter either (attempts per code and
  // failures per destination are what it counts, as Better Auth counts attempts per code).
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  plugins: [
    emailOTP({
      // Stored as a SHA-256 hash, not in clear (the default): Pregón keeps only an HMAC.
      storeOTP: "hashed",
      // Ten minutes, as the bench's codes for Pregón live (its default is 5).
      expiresIn: 600,
      disableSignUp: true,
      async sendVerificationOTP({ email, otp }) {
        sent.set(email, otp);
      },
    }),
  ],
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const app = new Hono();
app.on(["POST", "GET"], "/api/auth/*", (c) => auth.handler(c.req.raw));
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
await new Promise<void>((ready, fail) => server.once("listening", ready).once("error", fail));

/** Verified users `<prefix>-<i>@pregon.bench`, each with a pending sign-in code. */
async function usersAndCodes(prefix: string, count: number): Promise<string> {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-${i}@pregon.bench`);
  await pool.query(
    `insert into "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
     select 'u-' || e, '', e, true, now(), now() from unnest($1::text[]) as e`,
    [emails],
  );
  const lines: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const email = emails[i]!;
      await auth.api.sendVerificationOTP({ body: { email, type: "sign-in" } });
      lines.push(JSON.stringify({ email, otp: sent.get(email) }));
      sent.delete(email);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return `${lines.join("\n")}\n`;
}

const control = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const { prefix, count } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    usersAndCodes(String(prefix), Number(count)).then(
      (body) => response.end(body),
      (error) => {
        response.statusCode = 500;
        response.end(String(error instanceof Error ? error.stack : error));
      },
    );
  });
});
await new Promise<void>((done) => control.listen(0, "127.0.0.1", done));

serving(
  {
    api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
  },
  async () => {
    server.closeAllConnections();
    control.closeAllConnections();
  },
);
