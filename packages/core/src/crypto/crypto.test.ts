import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configure, hmac } from "./index";

describe("hmac", () => {
  it("is HMAC-SHA256 under the pepper's UTF-8 bytes, of the parts joined with NUL", () => {
    const pepper = "pepper-ñ-0123456789abcdefghijklmnopqrstuvwxyz";
    configure({ pepper });
    const expected = createHmac("sha256", pepper).update("a\0B@x.example\0é").digest("hex");
    expect(hmac("a", "B@x.example", "é")).toBe(expected);
  });
});
