import { once } from "node:events";
import { isIP, Socket, connect as tcp } from "node:net";
import { connect as tls } from "node:tls";

/** The connection was dropped because Postgres owed it an answer and sent nothing in time. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
  readonly code = "DATABASE_DEADLINE";
}

/** libpq's `sslmode`s (`allow` is taken as `prefer`). */
export type TlsMode = "disable" | "prefer" | "require" | "verify-ca" | "verify-full";

export function tlsModeOf(url: string): TlsMode {
  const mode = new URL(url).searchParams.get("sslmode") ?? "disable";
  if (mode === "allow") return "prefer";
  if (["disable", "prefer", "require", "verify-ca", "verify-full"].includes(mode)) {
    return mode as TlsMode;
  }
  throw new Error(`Unknown sslmode in the database URL: ${mode}`);
}

const ReadyForQuery = 0x5a; // Z
const Query = 0x51; // Q
const Sync = 0x53; // S

/**
 * Follows a stream of Postgres messages chunk by chunk and calls `seen` with each one's type byte
 * (undefined for the untyped first message: the startup or a cancel request).
 */
function messages(untypedFirst: boolean, seen: (type: number | undefined) => void) {
  let header: number[] = [];
  let body = 0;
  let first = untypedFirst;
  return (chunk: Uint8Array) => {
    for (let i = 0; i < chunk.length; ) {
      if (body > 0) {
        const n = Math.min(body, chunk.length - i);
        body -= n;
        i += n;
        continue;
      }
      header.push(chunk[i++]!);
      const size = first ? 4 : 5;
      if (header.length < size) continue;
      const [a, b, c, d] = header.slice(size - 4);
      seen(first ? undefined : header[0]);
      body = (((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0) - 4;
      header = [];
      first = false;
    }
  };
}

/**
 * Destroys `socket` when Postgres owes it an answer and sends nothing for `deadlineMs`: a frozen
 * server (or a network that drops everything) never closes the connection nor fires its own
 * `statement_timeout`. Answers are owed for the startup, each Query and each Sync (each ends in a
 * ReadyForQuery), and for anything written since the last byte read.
 */
function watch(socket: Socket, deadlineMs: number): Socket {
  let owed = 0;
  let unanswered = false;
  let timer: NodeJS.Timeout | undefined;
  const expire = () =>
    socket.destroy(new DeadlineError(`Postgres did not answer within ${deadlineMs} ms`));
  const rearm = () => {
    clearTimeout(timer);
    timer = owed > 0 || unanswered ? setTimeout(expire, deadlineMs) : undefined;
  };
  const sent = messages(true, (type) => {
    if (type === undefined || type === Query || type === Sync) owed++;
  });
  const received = messages(false, (type) => {
    if (type === ReadyForQuery) owed--;
  });
  const write = socket.write;
  socket.write = function (this: Socket, chunk: Uint8Array | string, ...rest: unknown[]) {
    sent(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    unanswered = true;
    // A deadline already running keeps running: only an answer moves it.
    if (!timer) rearm();
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Socket["write"];
  socket.on("data", (chunk: Buffer) => {
    received(chunk);
    unanswered = false;
    rearm();
  });
  socket.once("close", () => clearTimeout(timer));
  return socket;
}

/**
 * Asks for TLS the way Postgres wants (an SSLRequest, then the handshake on the same socket), so
 * the watched socket carries the protocol in clear.
 */
async function secure(raw: Socket, host: string, mode: TlsMode, deadlineMs: number) {
  const timer = setTimeout(
    () => raw.destroy(new DeadlineError(`No TLS with Postgres within ${deadlineMs} ms`)),
    deadlineMs,
  );
  try {
    await once(raw, "connect");
    raw.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])); // SSLRequest
    const [answer] = (await once(raw, "data")) as [Buffer];
    if (answer[0] !== 0x53) {
      if (mode === "prefer") return raw;
      throw new Error("Postgres does not accept TLS connections");
    }
    const verify = mode === "verify-ca" || mode === "verify-full";
    const socket = tls({
      socket: raw,
      host,
      ...(!isIP(host) && { servername: host }),
      rejectUnauthorized: verify,
      ...(mode === "verify-ca" && { checkServerIdentity: () => undefined }),
    });
    await once(socket, "secureConnect");
    return socket;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * postgres.js's `socket` option: a connection to the first host, TLS as `mode` says, watched for
 * answers that do not come. postgres.js must get a socket even when connecting failed: one that
 * fails as soon as it listens, so the pool takes the connection back.
 */
export function socketFactory(settings: {
  tls: TlsMode;
  deadlineMs: number;
  connectTimeoutMs: number;
}) {
  return async (options: { host: string[]; port: number[] }): Promise<Socket> => {
    const host = options.host[0]!;
    const raw = tcp({ host, port: options.port[0]! });
    let socket: Socket = raw;
    if (settings.tls !== "disable") {
      try {
        socket = await secure(raw, host, settings.tls, settings.connectTimeoutMs);
      } catch (error) {
        raw.destroy();
        const failed = new Socket();
        setImmediate(() => failed.destroy(error as Error));
        return failed;
      }
    }
    return settings.deadlineMs > 0 ? watch(socket, settings.deadlineMs) : socket;
  };
}
