import { Log } from "@pregon/core";
import { describe, expect, it } from "vitest";
import { lambdaEnvironment } from "../../../test/support/fixtures";
import { pipelines, stack } from "../../../test/support/setup";
import { startLambda } from "./lambda";

lambdaEnvironment(pipelines.topics, stack.aws, stack.mailboxUrl);

describe("a Lambda's start-up", () => {
  it("keeps the OTP pepper out of every log line, as the local stack does", () => {
    const pepper = process.env.PREGON_OTP_PEPPER!;
    // Nothing registered it before: this test's worker starts fresh.
    expect(Log.scrub(`pepper=${pepper};`)).toBe(`pepper=${pepper};`);
    startLambda({ outbox: true, otp: true });
    expect(Log.scrub(`pepper=${pepper};`)).toBe(`pepper=${Log.redacted};`);
  });
});
