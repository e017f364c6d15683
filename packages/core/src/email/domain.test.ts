import { describe, expect, it } from "vitest";
import { domainRecords } from "./domain";

describe("domainRecords", () => {
  it("lists the three DKIM CNAMEs and the MAIL FROM's SPF records SES gives, and DMARC", () => {
    const check = domainRecords("example.com", {
      region: "eu-west-1",
      dkimTokens: ["t1", "t2", "t3"],
      mailFromDomain: "bounce.example.com",
    });
    expect(check.records).toEqual([
      {
        kind: "DKIM",
        name: "t1._domainkey.example.com",
        type: "CNAME",
        value: "t1.dkim.amazonses.com",
      },
      {
        kind: "DKIM",
        name: "t2._domainkey.example.com",
        type: "CNAME",
        value: "t2.dkim.amazonses.com",
      },
      {
        kind: "DKIM",
        name: "t3._domainkey.example.com",
        type: "CNAME",
        value: "t3.dkim.amazonses.com",
      },
      {
        kind: "SPF",
        name: "bounce.example.com",
        type: "MX",
        value: "10 feedback-smtp.eu-west-1.amazonses.com",
      },
      {
        kind: "SPF",
        name: "bounce.example.com",
        type: "TXT",
        value: '"v=spf1 include:amazonses.com ~all"',
      },
      {
        kind: "DMARC",
        name: "_dmarc.example.com",
        type: "TXT",
        value: '"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"',
      },
    ]);
    expect(check.notes.join("\n")).not.toContain("DKIM: unknown");
  });

  it("says what it cannot know without SES, and why SPF does not align by default", () => {
    const check = domainRecords("example.com", undefined);
    expect(check.records.map((r) => r.kind)).toEqual(["DMARC"]);
    expect(check.notes[0]).toMatch(/^DKIM: unknown here/);
    expect(check.notes[1]).toMatch(/^SPF: with SES's default MAIL FROM/);
  });
});
