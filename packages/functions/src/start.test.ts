import { Log } from "@pregon/core";
import { describe, expect, it } from "vitest";
import { databaseUrl } from "../../../test/support/setup";
import { start } from "./start";

describe("the start-up shared by the Lambdas and the local stack", () => {
  it("keeps the pepper out of the logs", () => {
    const pepper = "start-pepper-0123456789abcdefghijklmnopqrstuv";
    start({ database: { url: databaseUrl }, otpPepper: pepper });
    expect(Log.scrub(`a ${pepper} b`)).toBe(`a ${Log.redacted} b`);
  });
});
