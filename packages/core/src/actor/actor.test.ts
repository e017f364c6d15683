import { describe, expect, it } from "vitest";
import { Actor } from "../index";

describe("Actor", () => {
  it("is what the entry point provided, in everything the work awaits", async () => {
    const key = {
      type: "key",
      projectId: "p",
      keyId: "k",
      scopes: ["admin"],
      requestId: "r",
    } as const;
    const seen = await Actor.provide(key, async () => {
      await new Promise((done) => setTimeout(done, 1));
      return [Actor.use(), Actor.projectId(), Actor.keyId(), Actor.requestId()];
    });
    expect(seen).toEqual([key, "p", "k", "r"]);
    expect(Actor.current()).toBeUndefined();
  });

  it("refuses work that no entry point gave an actor, and a project to an actor in none", () => {
    expect(() => Actor.use()).toThrow(/No actor/);
    expect(() => Actor.provide({ type: "public", requestId: "r" }, Actor.projectId)).toThrow(
      /No project/,
    );
    expect(() => Actor.provide({ type: "system", reason: "sweeper" }, Actor.projectId)).toThrow(
      /No project/,
    );
    const operator = { type: "system", reason: "cli", projectId: "p" } as const;
    expect(Actor.provide(operator, () => [Actor.projectId(), Actor.keyId()])).toEqual(["p", null]);
    expect(() => Actor.provide(operator, () => Actor.assert("key"))).toThrow(/key actor/);
  });
});
