import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileStore } from "./store";

const directory = await mkdtemp(join(tmpdir(), "pregon-templates-"));
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("fileStore", () => {
  it("keeps each version on disk, where a store opened later (the next start) finds it", async () => {
    const key = "projects/p/templates/welcome/default/0001.json";
    await fileStore(directory).put(key, '{"subject":"Hola"}');
    expect(await fileStore(directory).get(key)).toBe('{"subject":"Hola"}');
    expect(await readdir(join(directory, "projects/p/templates/welcome/default"))).toEqual([
      "0001.json",
    ]);
    await expect(fileStore(directory).get("projects/p/missing.json")).rejects.toThrow(/ENOENT/);
  });

  it("refuses an object key that leaves its directory", async () => {
    const store = fileStore(join(directory, "store"));
    await expect(store.put("../outside.json", "{}")).rejects.toThrow(/outside the store/);
    await expect(store.get("/etc/passwd")).rejects.toThrow(/outside the store/);
  });
});
