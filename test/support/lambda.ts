// A Lambda execution environment for an unpacked zip, on this machine: a fresh `node` process whose
// working directory is the function's code (as /var/task), with the environment the Lambda
// runtime and SST give it, that imports `bundle.mjs` once (the cold start) and invokes its handler
// with each event it is sent, with a Lambda context. Its stdout is the function's log stream.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Readable, Writable } from "node:stream";

/** What the environment runs: imports the handler, then answers one JSON line per event on fd 3. */
const runtime = `
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
const reply = (message) => writeSync(3, JSON.stringify(message) + "\\n");
const env = process.env;
const { handler } = await import(pathToFileURL(env.LAMBDA_TASK_ROOT + "/bundle.mjs").href);
reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const { id, event } = JSON.parse(line);
  const deadline = Date.now() + Number(env.PREGON_TEST_TIMEOUT_MS);
  const context = {
    awsRequestId: id,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    invokedFunctionArn: "arn:aws:lambda:" + env.AWS_REGION + ":111111111111:function:" + env.AWS_LAMBDA_FUNCTION_NAME,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  try {
    reply({ id, result: (await handler(event, context)) ?? null });
  } catch (error) {
    reply({ id, error: { name: error?.name, message: String(error?.message) } });
  }
}`;

export interface LambdaOptions {
  /** The unpacked zip (LAMBDA_TASK_ROOT, the working directory). */
  task: string;
  /** The function's name on AWS. */
  name: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** What infra/ and SST set on the function (its variables, SST_KEY, SST_RESOURCE_App...). */
  environment: Record<string, string>;
}

export class LambdaEnvironment {
  readonly #process: ChildProcess;
  readonly #pending = new Map<string, (reply: { result?: unknown; error?: unknown }) => void>();
  readonly #ready: Promise<void>;
  /** What the function wrote to stdout and stderr (its log stream). */
  logs = "";

  constructor(options: LambdaOptions) {
    this.#process = spawn(process.execPath, ["--input-type=module", "-e", runtime], {
      cwd: options.task,
      env: {
        PATH: process.env.PATH,
        LANG: "en_US.UTF-8",
        TZ: ":UTC",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        AWS_LAMBDA_FUNCTION_NAME: options.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${randomUUID().replaceAll("-", "")}`,
        LAMBDA_TASK_ROOT: options.task,
        LAMBDA_RUNTIME_DIR: "/var/runtime",
        _HANDLER: "bundle.handler",
        PREGON_TEST_TIMEOUT_MS: String(options.timeoutSeconds * 1000),
        ...options.environment,
      },
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    // As text decoded across chunks: a chunk may end inside a character.
    const output = (chunk: string) => {
      this.logs += chunk;
    };
    this.#process.stdout!.setEncoding("utf8").on("data", output);
    this.#process.stderr!.setEncoding("utf8").on("data", output);
    let lines = "";
    let ready: () => void = () => {};
    let failed: (error: Error) => void = () => {};
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    (this.#process.stdio[3] as Readable).setEncoding("utf8").on("data", (chunk: string) => {
      lines += chunk;
      for (let end = lines.indexOf("\n"); end !== -1; end = lines.indexOf("\n")) {
        const message = JSON.parse(lines.slice(0, end));
        lines = lines.slice(end + 1);
        if (message.ready) ready();
        else this.#pending.get(message.id)?.(message);
      }
    });
    this.#process.on("exit", (code) => {
      const error = new Error(`${options.name} exited (${code}):\n${this.logs}`);
      failed(error);
      for (const settle of this.#pending.values()) settle({ error: error.message });
    });
  }

  /** Invokes the handler with `event`; its result, or what it threw. */
  async invoke<T = unknown>(event: unknown): Promise<T> {
    await this.#ready;
    const id = randomUUID();
    const reply = await new Promise<{ result?: unknown; error?: unknown }>((settle) => {
      this.#pending.set(id, settle);
      (this.#process.stdin as Writable).write(`${JSON.stringify({ id, event })}\n`);
    });
    this.#pending.delete(id);
    if (reply.error) throw new Error(`invocation failed: ${JSON.stringify(reply.error)}`);
    return reply.result as T;
  }

  stop() {
    this.#process.kill();
  }
}
