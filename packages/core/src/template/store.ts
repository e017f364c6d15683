import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";

/** Port: where template versions live, one immutable object each. */
export interface Store {
  put(objectKey: string, body: string): Promise<void>;
  get(objectKey: string): Promise<string>;
}

/**
 * The Store port on a local directory, for the local stack: its S3 emulator keeps objects in
 * memory, and stored templates must outlive a restart as their rows in Postgres do.
 */
export function fileStore(directory: string): Store {
  const root = resolve(directory);
  const pathOf = (objectKey: string) => {
    const path = resolve(root, objectKey);
    if (!path.startsWith(`${root}${sep}`)) throw new Error("Template object key outside the store");
    return path;
  };
  return {
    async put(objectKey, body) {
      const path = pathOf(objectKey);
      await mkdir(dirname(path), { recursive: true });
      // Written aside, then renamed: a crash never leaves half a version under its name.
      const written = `${path}.${randomUUID()}.tmp`;
      await writeFile(written, body);
      await rename(written, path);
    },
    async get(objectKey) {
      return readFile(pathOf(objectKey), "utf8");
    },
  };
}
