import { afterEach, describe, expect, it, vi } from "vitest";
import { logger, redact, redacted, registerSecret } from "./index";

/** Captures what the logger writes (Powertools writes JSON lines to stdout). */
function captureLogs() {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe("log redaction", () => {
  afterEach(() => logger.setLogLevel("SILENT"));

  it("keeps keys, codes and bodies out of log lines, at any depth", () => {
    logger.setLogLevel("DEBUG");
    const capture = captureLogs();
    const apiKey = "prg_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";
    try {
      logger.info(`request with Authorization: Bearer ${apiKey}`, {
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        input: { to: ["a@example.com"], subject: "Hi", html: "<p>secret body</p>", code: "123456" },
        nested: [{ variables: { name: "Ana" } }, { note: `leaked ${apiKey} here` }],
        error: { code: "ECONNREFUSED" },
      });
    } finally {
      capture.restore();
    }
    const output = capture.lines.join("");
    expect(output).toContain("application/json");
    expect(output).toContain("ECONNREFUSED");
    for (const secret of [apiKey, "secret body", "123456", "Ana", '"Hi"']) {
      expect(output).not.toContain(secret);
    }
    expect(output.split(redacted).length).toBeGreaterThan(5);
  });

  it("scrubs registered secrets that look like nothing special", () => {
    const bootstrap = "my-own-bootstrap-key-0123456789abcdef";
    registerSecret(bootstrap);
    expect(redact("message", `using ${bootstrap}!`)).toBe(`using ${redacted}!`);
    expect(redact("count", 3)).toBe(3);
  });
});
