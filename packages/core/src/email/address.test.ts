import { describe, expect, it } from "vitest";
import { formatMailbox, parseMailbox } from "./address";

describe("mailboxes", () => {
  it("reads one mailbox, lower-casing the address", () => {
    expect(parseMailbox("Billing <Billing@X.example>")).toEqual({
      name: "Billing",
      address: "billing@x.example",
    });
    expect(parseMailbox(" plain@x.example ")).toEqual({ name: null, address: "plain@x.example" });
    expect(parseMailbox('"Ana, Pérez" <a@x.example>')).toEqual({
      name: "Ana, Pérez",
      address: "a@x.example",
    });
    expect(parseMailbox("Pregón <no-reply@pregon.localhost>")).toEqual({
      name: "Pregón",
      address: "no-reply@pregon.localhost",
    });
  });

  it("answers a repeated text alike, past the remembered ones too, and shares no object", () => {
    const first = parseMailbox("Billing <billing@x.example>")!;
    first.address = "changed@y.example";
    expect(parseMailbox("Billing <billing@x.example>")).toEqual({
      name: "Billing",
      address: "billing@x.example",
    });
    for (let i = 0; i < 2_500; i++) {
      expect(parseMailbox(`n${i} <a${i}@x.example>`)).toEqual({
        name: `n${i}`,
        address: `a${i}@x.example`,
      });
      expect(parseMailbox(`a${i}@x.example, b@y.example`)).toBeUndefined();
    }
    expect(parseMailbox("a@x.example, b@y.example")).toBeUndefined();
  });

  it("refuses anything but exactly one mailbox", () => {
    for (const smuggled of [
      "ceo@bank.com, <no-reply@pregon.localhost>",
      "Ana <a@x.example>, b@y.example",
      "Ana <a@x.example> trailing",
      "Ana\r\nBcc: spy@y.example <a@x.example>",
      "friends: a@x.example, b@y.example;",
      "no-at-sign",
      "Ana <a@[127.0.0.1]>",
      "",
    ]) {
      expect({ smuggled, parsed: parseMailbox(smuggled) }).toEqual({ smuggled, parsed: undefined });
    }
  });

  it("builds the header anew: names quoted, or RFC 2047-encoded in words of at most 75", () => {
    expect(formatMailbox({ name: null, address: "a@x.example" })).toBe("a@x.example");
    expect(formatMailbox({ name: 'Ana "A" \\ B', address: "a@x.example" })).toBe(
      '"Ana \\"A\\" \\\\ B" <a@x.example>',
    );
    expect(formatMailbox({ name: "Pregón", address: "a@x.example" })).toBe(
      `=?UTF-8?B?${Buffer.from("Pregón").toString("base64")}?= <a@x.example>`,
    );
    const long = "Señora ".repeat(20).trim();
    const header = formatMailbox({ name: long, address: "a@x.example" });
    const words = header.replace(/ <a@x\.example>$/, "").split(" ");
    expect(words.length).toBeGreaterThan(1);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    const decoded = words
      .map((word) => Buffer.from(word.slice(10, -2), "base64"))
      .reduce((all, part) => Buffer.concat([all, part]), Buffer.alloc(0))
      .toString();
    expect(decoded).toBe(long);
  });
});
