import { describe, expect, it } from "vitest";
import { addressOf, formatAddress } from "./mailer";

describe("addresses", () => {
  it("formats a recipient with a name, quoting or MIME-encoding it", () => {
    expect(formatAddress("a@x.example")).toBe("a@x.example");
    expect(formatAddress("a@x.example", 'Ana "A" \\ B')).toBe('"Ana \\"A\\" \\\\ B" <a@x.example>');
    expect(formatAddress("a@x.example", "Añá")).toBe(
      `=?UTF-8?B?${Buffer.from("Añá").toString("base64")}?= <a@x.example>`,
    );
  });

  it("reads the address out of a mailbox, lower-cased", () => {
    expect(addressOf("Billing <Billing@X.example>")).toBe("billing@x.example");
    expect(addressOf(" plain@x.example ")).toBe("plain@x.example");
  });
});
