// `npm run typecheck:infra` must pass on the real sst.config.ts + infra/, and
// must fail when a property is misspelt: in an SST component's args, in a
// Pulumi AWS resource's args, and in the app config. The mutants live in a temp
// copy and go through the same script and tsc invocation as CI.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const script = join(root, "scripts", "typecheck-infra.sh");

interface Run {
  status: number | null;
  output: string;
}

function typecheck(dir?: string): Run {
  const result = spawnSync("bash", dir ? [script, dir] : [script], {
    cwd: root,
    encoding: "utf8",
    timeout: 55_000,
  });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

const mutants = [
  {
    what: "an SST component arg (sst.aws.Bucket)",
    file: "infra/storage.ts",
    from: "versioning: true",
    to: "versionning: true",
    property: "versionning",
  },
  {
    what: "a Pulumi AWS resource arg (aws.sns.TopicSubscription)",
    file: "infra/messaging.ts",
    from: "rawMessageDelivery: pipeline",
    to: "rawMessageDelivry: pipeline",
    property: "rawMessageDelivry",
  },
  {
    what: "the app config",
    file: "sst.config.ts",
    from: "protect: production",
    to: "protekt: production",
    property: "protekt",
  },
];

describe("typecheck:infra", { timeout: 60_000 }, () => {
  let copy = "";
  let mutated: Run;

  beforeAll(() => {
    // A copy of the config, with every mutant applied, that sees the repo's
    // node_modules and .sst/platform through symlinks.
    mkdirSync(join(root, ".sst"), { recursive: true });
    copy = mkdtempSync(join(tmpdir(), "pregon-infra-typecheck-"));
    cpSync(join(root, "sst.config.ts"), join(copy, "sst.config.ts"));
    cpSync(join(root, "infra"), join(copy, "infra"), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
    symlinkSync(join(root, ".sst"), join(copy, ".sst"), "dir");
    symlinkSync(join(root, "packages"), join(copy, "packages"), "dir");
    for (const mutant of mutants) {
      const path = join(copy, mutant.file);
      const original = readFileSync(path, "utf8");
      if (!original.includes(mutant.from)) {
        throw new Error(`${mutant.file} no longer contains "${mutant.from}": update this test`);
      }
      writeFileSync(path, original.replace(mutant.from, mutant.to));
    }
    mutated = typecheck(copy);
  }, 60_000);

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it("passes on the real sst.config.ts and infra/", () => {
    const { status, output } = typecheck();
    expect(output).not.toMatch(/error TS\d+/);
    expect(status).toBe(0);
  });

  it("exits non-zero on the mutated copy", () => {
    expect(mutated.status, mutated.output).not.toBe(0);
  });

  for (const mutant of mutants) {
    it(`names the misspelt property in ${mutant.what}`, () => {
      const errors = mutated.output.split("\n").filter((line) => /error TS\d+:/.test(line));
      const named = errors.filter(
        (line) => line.includes(mutant.file) && line.includes(`'${mutant.property}'`),
      );
      expect(named, mutated.output).toHaveLength(1);
    });
  }
});
