import { createApp } from "@pregon/api";
import { Email, Log } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { describe, expect, it, vi } from "vitest";
import { acknowledge, event, mailbox, mailer, receiveAll, uniqueDomain } from "./support/email";
import { callApp, projectWithKey, settings } from "./support/fixtures";

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
});
