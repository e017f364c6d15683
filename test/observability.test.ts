import { createApp } from "@pregon/api";
import { Email, Log } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import postgres from "postgres";
import { describe, expect, it, vi } from "vitest";
import { acknowledge, event, mailbox, mailer, receiveAll, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";
import { ownerUrl } from "./support/setup";

// This file looks at what reaches stdout and stderr: EMF metrics on (they are made on first use), logs at DEBUG.
process.env.POWERTOOLS_METRICS_DISABLED = "false";
const app = createApp(settings);

describe("logs and metrics over a full email and OTP flow", () => {
  it("emit EMF metrics, and no code, key, address or body", async () => {
    const { secret } = await projectWithKey(["emails:send", "otp:send", "otp:verify"]);
    const domain = uniqueDomain();
    const lines: string[] = [];
    Log.logger.setLogLevel("DEBUG");
    // Powertools writes info and metrics to stdout, warnings and errors to stderr.
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, "write").mockImplementation(capture),
      vi.spyOn(process.stderr, "write").mockImplementation(capture),
    ];
    let code = "";
    let accepted = { id: "", requestId: "" };
    try {
      const sent = await callApp(app, secret, "POST", "/v1/emails", {
        to: [`ana@${domain}`, `rejected@${domain}`],
        subject: "Secret subject {{ n }}",
        text: "Secret body {{ n }}",
        variables: { n: "x" },
      });
      expect(sent.status).toBe(202);
      accepted = { id: sent.body.id, requestId: sent.headers.get("x-request-id")! };
      const otp = await callApp(app, secret, "POST", "/v1/otp", {
        channel: "email",
        to: `otp@${domain}`,
      });
      const records = await receiveAll(2);
      const sender = createEmailSender({
        sendRate: 5000,
        mailer: {
          send: (email) =>
            email.to.startsWith("rejected@")
              ? Promise.reject(
                  new Email.SendError(`MessageRejected: ${email.to} is not allowed`, true),
                )
              : mailer.send(email),
        },
      });
      await sender(event(...records));
      await acknowledge(records);
      const otpEmail = (await mailbox(domain)).find(
        (e) => e.destination.to[0] === `otp@${domain}`,
      )!;
      code = /is (\d{6})\./.exec(otpEmail.body.text!)![1]!;
      await callApp(app, secret, "POST", "/v1/otp/verify", { id: otp.body.id, code });
    } finally {
      for (const spy of spies) spy.mockRestore();
      Log.logger.setLogLevel("SILENT");
    }
    const output = lines.join("");
    const metrics = lines
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          return undefined;
        }
      })
      .filter((entry) => entry?._aws?.CloudWatchMetrics);
    // A metric recorded several times in one flush is an array of values.
    const total = (name: string) =>
      metrics.reduce(
        (sum, entry) => sum + [entry[name] ?? []].flat().reduce((a: number, b: number) => a + b, 0),
        0,
      );
    expect(metrics[0]._aws.CloudWatchMetrics[0].Namespace).toBe("Pregon");
    expect(total("EmailsAccepted")).toBe(2); // the OTP message counts as OtpIssued
    expect(total("EmailsSent")).toBe(2);
    expect(total("EmailsFailed")).toBe(1);
    expect(total("OtpIssued")).toBe(1);
    expect(total("OtpVerified")).toBe(1);
    // Log lines name the request, the key and the notification they are about.
    const logs = lines.flatMap((line) => {
      try {
        const entry = JSON.parse(line);
        return entry.message ? [entry] : [];
      } catch {
        return [];
      }
    });
    expect(accepted.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.find((entry) => entry.message === "notification accepted")).toMatchObject({
      level: "INFO",
      requestId: accepted.requestId,
      keyId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      notificationId: accepted.id,
      channel: "email",
      accepted: 2,
    });
    expect(logs.find((entry) => entry.message === "email delivery failed")).toMatchObject({
      level: "WARN",
      notificationId: accepted.id,
      permanent: true,
    });
    expect(output).toContain("email delivery failed"); // a log line was written…
    for (const secretThing of [code, secret, domain, "Secret subject", "Secret body"]) {
      expect(output).not.toContain(secretThing); // …and none of these
    }
  });

  it("log a failing statement's error by name and code, never its parameters", async () => {
    const { secret } = await projectWithKey(["emails:send", "push:send"]);
    const domain = uniqueDomain();
    // Postgres refuses the rows these requests write, as it would on a full disk or a bad migration.
    // Triggers are the owner's to create, not the application role's.
    const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
    await owner`
      create function refuse_row() returns trigger language plpgsql
        as $$ begin raise exception 'row refused' using errcode = 'P0001'; end $$`;
    for (const table of ["deliveries", "devices"]) {
      await owner.unsafe(
        `create trigger refuse before insert on ${table} execute function refuse_row()`,
      );
    }
    const lines: string[] = [];
    Log.logger.setLogLevel("DEBUG");
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, "write").mockImplementation(capture),
      vi.spyOn(process.stderr, "write").mockImplementation(capture),
    ];
    const personal = {
      address: `ana.perez@${domain}`,
      name: "Ana Secreta Pérez",
      ssn: "078-05-1120",
      token: "device-token-5f3c9a7e1b2d4c6f",
    };
    try {
      const sent = await callApp(app, secret, "POST", "/v1/emails", {
        to: [{ email: personal.address, name: personal.name, variables: { ssn: personal.ssn } }],
        subject: "Hi",
        text: "t",
      });
      expect(sent.status).toBe(500);
      const device = await callApp(app, secret, "POST", "/v1/devices", {
        userId: "u1",
        platform: "fcm",
        token: personal.token,
      });
      expect(device.status).toBe(500);
    } finally {
      for (const spy of spies) spy.mockRestore();
      Log.logger.setLogLevel("SILENT");
      for (const table of ["deliveries", "devices"]) {
        await owner.unsafe(`drop trigger refuse on ${table}`);
      }
      await owner.end();
    }
    const output = lines.join("");
    const failures = lines
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      })
      .filter((entry) => entry.message === "procedure failed");
    expect(failures).toHaveLength(2);
    // The line says what failed: the error's class, the database's code, where it was thrown.
    expect(JSON.stringify(failures[0].error)).toContain('"code":"P0001"');
    expect(failures[0].error).toMatchObject({ name: "TRPCError", location: expect.any(String) });
    for (const value of Object.values(personal)) expect(output).not.toContain(value);
  });
});
