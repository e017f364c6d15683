// Evaluates sst.config.ts for a stage as `sst deploy` would, offline, and reports every resource
// the program declares with its resolved arguments and options: what SST's own components (from
// .sst/platform, the version `npm run typecheck:infra` installs) make of infra/*.ts, without an AWS
// account and without the Pulumi engine.
//
// How. The program is bundled the way the sst CLI bundles it (pkg/project/run.go: its globals
// injected, `$app`/`$cli`/`$dev` defined), then run in a child process under Pulumi's mocks
// (`runtime.setMocks`): every resource registration and provider call reaches the mocks here
// instead of AWS, and resolves to its inputs plus the few attributes AWS would add (ids, ARNs,
// DKIM tokens, codeSha256). What the sst binary itself does over its RPC server is stood in for:
// building a function writes what SST's build writes (scripts/bundle.ts `stubBuild`: bundle.mjs and
// its map, and which maps SST keeps out of the zip), then SST's own code zips it. Nothing leaves
// the machine.
//
// What it cannot show: what AWS accepts (quotas, names, an identity that already exists), the
// order the engine creates things in beyond the declared dependencies, and anything the sst
// binary does itself (the real esbuild run, the zone lookup).
//
//   npx tsx scripts/plan-infra.ts [stage] [--dev]   list what a deploy of `stage` declares (PREGON_*
//                                             from the environment; PREGON_EMAIL_DOMAIN defaults to
//                                             acme.example); with --dev, what `sst dev` declares
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ResourceOptions } from "@pulumi/pulumi";
import { build } from "esbuild";
import { root, stubBuild, zipEntries } from "./bundle";

const platform = join(root, ".sst", "platform");

export interface PlannedResource {
  type: string;
  name: string;
  /** Read from AWS (`.get`, by this id), not created. */
  readId?: string;
  parent?: string;
  inputs: Record<string, unknown>;
  /** What AWS would add (as the mocks stand in for it): arn, id, codeSha256... */
  attributes: Record<string, unknown>;
  retainOnDelete: boolean;
  /** The resources it waits for explicitly (`dependsOn`), components expanded to what they made. */
  dependsOn: string[];
}

export interface Plan {
  stage: string;
  app: { name: string; removal: string; protect: boolean; providers: Record<string, unknown> };
  resources: PlannedResource[];
  outputs: Record<string, unknown>;
  /**
   * What SST asked the sst binary to build, by function: its runtime and `nodejs` arguments, and
   * the links it encrypts into the bundle (`resource.enc`, what `Resource.X` reads), by name.
   */
  builds: Record<
    string,
    {
      runtime: string;
      properties: Record<string, unknown>;
      links: Record<string, Record<string, unknown>>;
    }
  >;
  /** The names inside each zip SST would upload, by the S3 object that uploads it. */
  zips: Record<string, string[]>;
}

/** `type::name`, how resources name each other in a plan. */
export const key = (resource: { type: string; name: string }) =>
  `${resource.type}::${resource.name}`;

/**
 * What a deploy of `stage` declares, with `env` as its environment (PREGON_* variables); with
 * `dev`, what `sst dev` declares for it instead.
 */
export async function planInfra(
  stage: string,
  env: Record<string, string>,
  options: { dev?: boolean } = {},
): Promise<Plan> {
  const dev = options.dev === true;
  const platformOnly = spawnSync("bash", [join(root, "scripts/typecheck-infra.sh"), "--platform"], {
    cwd: root,
    encoding: "utf8",
  });
  if (platformOnly.status !== 0) {
    throw new Error(`typecheck-infra.sh --platform: ${platformOnly.stdout}${platformOnly.stderr}`);
  }
  mkdirSync(join(root, ".sst", "plan"), { recursive: true });
  // Inside the repo, so the bundle's external imports resolve from its node_modules.
  const dir = mkdtempSync(join(root, ".sst", "plan", `${stage}-`));
  try {
    await bundleProgram(join(dir, "program.mjs"), dev);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--child", dir, stage, String(dev)],
      {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: join(dir, "home"), ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const status = await new Promise<number | null>((done) => child.on("close", done));
    if (status !== 0) throw new Error(`plan of ${stage} failed:\n${output}`);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as Plan;
    // Read before the folder goes: the zips SST made of each function.
    for (const r of plan.resources) {
      const source = (r.inputs.source as { asset?: string } | undefined)?.asset;
      if (source?.endsWith(".zip")) plan.zips[r.name] = await zipEntries(source);
    }
    return plan;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** sst.config.ts and infra/, bundled as the sst CLI bundles them (pkg/project/run.go, pkg/js). */
async function bundleProgram(outfile: string, dev: boolean) {
  const globals = [
    `import * as aws from "@pulumi/aws";`,
    `import * as sst from "${join(platform, "src/components")}";`,
  ].join("\n");
  await build({
    stdin: {
      contents: [
        `import { run } from "${join(platform, "src/auto/run.ts")}";`,
        `import mod from "${join(root, "sst.config.ts")}";`,
        "export const app = mod.app;",
        "export const program = () => run(mod.run);",
      ].join("\n"),
      resolveDir: root,
      sourcefile: "eval.ts",
      loader: "ts",
    },
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        "const require = topLevelCreateRequire(import.meta.url);",
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        "const __filename = topLevelFileUrlToPath(import.meta.url)",
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
      ].join("\n"),
    },
    mainFields: ["module", "main"],
    format: "esm",
    platform: "node",
    bundle: true,
    outfile,
    logLevel: "error",
    // The CLI puts `aws` and `sst` in scope of every file of the app, as here.
    plugins: [
      {
        name: "inject-globals",
        setup(b) {
          b.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args) => {
            if (args.path.startsWith(join(root, ".sst")) || args.path.includes("node_modules")) {
              return undefined;
            }
            return {
              contents: `${globals}\n${readFileSync(args.path, "utf8")}`,
              loader: "default",
            };
          });
        },
      },
    ],
    external: [
      "@pulumi/*",
      "undici",
      "@pulumiverse/*",
      "@sst-provider/*",
      "@aws-sdk/*",
      "esbuild",
      "archiver",
      "glob",
      "vite",
    ],
    // The CLI writes these in as JSON; here the child sets them before running the program.
    define: { $app: "globalThis.__planApp", $cli: "globalThis.__planCli", $dev: String(dev) },
    inject: [join(platform, "src/shim/run.js")],
  });
}

/** The region app() pins the AWS provider to (the child sets it before the program runs). */
let region = "us-east-1";

/** What AWS would add to a resource's inputs, as far as this app reads it. */
function stateOf(type: string, name: string, inputs: Record<string, unknown>, id: string) {
  const arn = `arn:aws:mock:${region}:111111111111:${type.split(":")[1]}/${name}`;
  const state: Record<string, unknown> = { ...inputs, arn, id, name: inputs.name ?? name };
  if (type === "aws:sesv2/emailIdentity:EmailIdentity") {
    state.emailIdentity ??= id;
    state.configurationSetName ??= "the-owning-stage-set";
    state.dkimSigningAttributes = {
      ...(inputs.dkimSigningAttributes as object),
      tokens: ["dkimtoken1", "dkimtoken2", "dkimtoken3"],
    };
  }
  if (type === "aws:lambda/function:Function") {
    state.codeSha256 = createHash("sha256").update(String(inputs.s3Key)).digest("base64");
  }
  if (type === "aws:rds/instance:Instance") {
    Object.assign(state, { resourceId: "db-MOCK", endpoint: "db.mock:5432", address: "db.mock" });
  }
  if (type === "aws:rds/proxy:Proxy") state.endpoint = "proxy.mock";
  if (type === "aws:acm/certificate:Certificate") {
    // The record ACM asks for to validate the domain by DNS.
    state.domainValidationOptions = [
      {
        domainName: inputs.domainName,
        resourceRecordName: `_validation.${inputs.domainName}`,
        resourceRecordType: "CNAME",
        resourceRecordValue: "validation.acm-validations.aws",
      },
    ];
  }
  if (type === "aws:apigatewayv2/domainName:DomainName") {
    state.domainNameConfiguration = {
      ...(inputs.domainNameConfiguration as object),
      targetDomainName: `d-mock.execute-api.${region}.amazonaws.com`,
      hostedZoneId: "ZMOCKAPIGW",
    };
  }
  if (type === "aws:apigatewayv2/api:Api") {
    state.apiEndpoint = `https://${id}.execute-api.${region}.amazonaws.com`;
  }
  if (type === "aws:cloudfront/distribution:Distribution")
    state.domainName = `${id}.cloudfront.net`;
  if (type === "aws:s3/bucketV2:BucketV2" || type === "aws:s3/bucket:Bucket") {
    state.bucketRegionalDomainName = `${id}.s3.${region}.amazonaws.com`;
  }
  if (type === "random:index/randomPassword:RandomPassword") state.result = `mock-${name}`;
  if (type === "random:index/randomBytes:RandomBytes") {
    // SST's key for every function's links (resource.enc, SST_KEY).
    const bytes = createHash("sha256").update(name).digest();
    Object.assign(state, { base64: bytes.toString("base64"), hex: bytes.toString("hex") });
  }
  if (type === "pulumi-nodejs:dynamic:Resource") state.zoneId = "ZMOCK";
  return state;
}

/** What AWS's read-only calls (data sources) answer, as far as this app reads them. */
function callResult(token: string, inputs: Record<string, unknown>) {
  switch (token) {
    case "aws:iam/getPolicyDocument:getPolicyDocument":
      // SST's Function reads `statements` back to decide whether its role gets an inline policy.
      return {
        json: JSON.stringify({ Statement: inputs.statements }),
        statements: inputs.statements,
      };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "111111111111", arn: "arn:aws:iam::111111111111:user/mock", id: "x" };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: [`${region}a`, `${region}b`], zoneIds: ["az1", "az2"], id: "x" };
    default:
      return { id: "mock" };
  }
}

/** Pulumi's mark of a secret value in serialized properties. */
const secretSig = ["4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"] as const;

/**
 * Inputs as JSON: assets (zips, files) as their paths, secrets as their values, and a dynamic
 * provider's serialized code left out.
 */
async function plain(value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map(plain));
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record.path instanceof Promise) return { asset: await record.path };
    if (record[secretSig[0]] === secretSig[1]) return plain(record.value);
    const entries = await Promise.all(
      Object.entries(record)
        .filter(([k]) => k !== "__provider")
        .map(async ([k, v]) => [k, await plain(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** The child: runs the bundled program under mocks and writes plan.json. */
async function child(dir: string, stage: string, dev: boolean) {
  const pulumi = await import("@pulumi/pulumi");
  const { runInPulumiStack } = await import("@pulumi/pulumi/runtime/stack.js");
  // Internal to the Pulumi SDK (left out of its typings): what the engine itself waits for and
  // how it expands a component in `dependsOn` to the resources it made.
  const { waitForRPCs } = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as {
    waitForRPCs(): Promise<void>;
  };
  const { gatherExplicitDependencies, getAllTransitivelyReferencedResources } = (await import(
    "@pulumi/pulumi/runtime/dependsOn.js"
  )) as unknown as {
    gatherExplicitDependencies(dependsOn: unknown): Promise<object[]>;
    getAllTransitivelyReferencedResources(
      resources: object[],
      exclude: Set<object>,
    ): Promise<object[]>;
  };

  const builds: Plan["builds"] = {};
  // The sst binary's RPC server, as far as a deploy of this app calls it.
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      const { method, params } = JSON.parse(body) as {
        method: string;
        params: [
          {
            functionID: string;
            runtime: string;
            encryptionKey: string;
            properties?: Record<string, unknown>;
            links?: Record<string, Record<string, unknown>>;
          },
        ];
      };
      const input = params[0];
      let reply: { result?: unknown; error?: string };
      if (method === "Runtime.Build") {
        builds[input.functionID] = {
          runtime: input.runtime,
          properties: input.properties ?? {},
          links: input.links ?? {},
        };
        const out = join(dir, "build", input.functionID);
        const built = await stubBuild(
          out,
          input.properties ?? {},
          input.links ?? {},
          input.encryptionKey,
        );
        reply = { result: { ...built, out, errors: [] } };
      } else if (method === "Provider.Aws.Bootstrap") {
        reply = { result: { asset: "sst-asset-mock", state: "sst-state-mock" } };
      } else if (method === "Provider.Aws.Appsync" && dev) {
        // `sst dev`: the AppSync Events API its live functions' stubs talk through.
        reply = { result: { http: "appsync-http.mock", realtime: "appsync-realtime.mock" } };
      } else if (method === "Runtime.AddTarget" && dev) {
        // What `sst dev` runs locally, with the links it passes (as a build's, above).
        builds[input.functionID] = {
          runtime: input.runtime,
          properties: input.properties ?? {},
          links: input.links ?? {},
        };
        reply = { result: {} };
      } else {
        reply = { error: `${method} is not stood in for by scripts/plan-infra.ts` };
      }
      res.end(JSON.stringify({ id: 0, ...reply }));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const secret of [
    "OtpPepper",
    "ApnsSigningKey",
    "FcmServiceAccount",
    "DatabaseMasterPassword",
  ]) {
    process.env[`SST_SECRET_${secret}`] ??= `mock-${secret}-${"x".repeat(40)}`;
  }
  process.env.PREGON_EMAIL_DOMAIN ??= "acme.example";
  // `sst dev` passes its region to the live functions' stubs.
  process.env.SST_AWS_REGION ??= "us-east-1";

  const program = await import(pathToFileURL(join(dir, "program.mjs")).href);
  const config = await program.app({ stage });
  const app = { name: "pregon", home: "aws", providers: {}, ...config, stage };
  region = (app.providers as { aws?: { region?: string } }).aws?.region ?? region;
  Object.assign(globalThis, {
    __planApp: app,
    __planCli: {
      command: dev ? "dev" : "deploy",
      dev,
      paths: { home: join(dir, "home"), root, work: join(dir, "work"), platform },
      state: { version: {} },
    },
  });

  const registered: (Pick<PlannedResource, "type" | "name" | "inputs" | "attributes"> & {
    readId?: string;
  })[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = args.id || `${args.name}-id`;
        const state = stateOf(args.type, args.name, args.inputs, id);
        const attributes = Object.fromEntries(
          Object.entries(state).filter(([k]) => !(k in args.inputs)),
        );
        registered.push({ ...args, readId: args.id || undefined, attributes });
        return { id, state };
      },
      call: (args) => callResult(args.token, args.inputs),
    },
    app.name,
    stage,
    false,
  );

  const declared = new Map<
    object,
    { type: string; name: string; opts: ResourceOptions; parent?: object }
  >();
  const outputs = await runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      declared.set(args.resource, {
        type: args.type,
        name: args.name,
        opts: args.opts,
        parent: args.opts.parent,
      });
      return undefined;
    });
    return program.program();
  });
  await waitForRPCs();

  const byResource = (resource: object) => {
    const found = declared.get(resource);
    return found ? key(found) : "(unknown)";
  };
  const options = new Map<
    string,
    { dependsOn: string[]; retainOnDelete: boolean; parent?: string }
  >();
  for (const [, { type, name, opts, parent }] of declared) {
    const direct = await gatherExplicitDependencies(opts.dependsOn);
    const all = await getAllTransitivelyReferencedResources(direct, new Set());
    options.set(key({ type, name }), {
      dependsOn: [...new Set([...direct, ...all].map(byResource))].sort(),
      retainOnDelete: opts.retainOnDelete === true,
      parent: parent ? byResource(parent) : undefined,
    });
  }
  const resources: PlannedResource[] = [];
  for (const { type, name, inputs, attributes, readId } of registered) {
    const opts = options.get(key({ type, name }));
    resources.push({
      type,
      name,
      readId,
      parent: opts?.parent,
      inputs: (await plain(inputs)) as Record<string, unknown>,
      attributes: (await plain(attributes)) as Record<string, unknown>,
      retainOnDelete: opts?.retainOnDelete ?? false,
      dependsOn: opts?.dependsOn ?? [],
    });
  }
  const plan: Plan = {
    stage,
    app: { name: app.name, removal: app.removal, protect: app.protect, providers: app.providers },
    resources,
    outputs: (await plain(outputs)) as Record<string, unknown>,
    builds,
    zips: {},
  };
  writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
  server.close();
}

if (process.argv[2] === "--child") {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5] === "true");
  process.exit(0);
} else if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const stage = args.find((arg) => !arg.startsWith("--")) ?? "dev";
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name.startsWith("PREGON_")),
  ) as Record<string, string>;
  const plan = await planInfra(stage, env, { dev: args.includes("--dev") });
  for (const r of plan.resources.filter((r) => !r.type.startsWith("pulumi:"))) {
    const flags = [r.readId && `read ${r.readId}`, r.retainOnDelete && "retained"]
      .filter(Boolean)
      .join(", ");
    console.log(`${r.type} ${r.name}${flags ? ` (${flags})` : ""}`);
  }
  console.log(`${plan.resources.length} resources; outputs: ${JSON.stringify(plan.outputs)}`);
}
