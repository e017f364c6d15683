import { createHmac, timingSafeEqual } from "node:crypto";
import { hmac } from "../crypto";

/**
 * An unsubscribe link's token: base64url of a version byte, the project id (16 bytes), the
 * recipient's HMAC (32 bytes) and the category's key, followed by an HMAC-SHA256 of all that
 * under the project's link key. No address is in it; changing any byte (another recipient, another
 * category, another project) breaks the signature.
 */
export interface Claims {
  projectId: string;
  category: string;
  /** The recipient's address HMAC (hex), as deliveries keep it. */
  recipientHmac: string;
}

const version = 1;
const signatureBytes = 32;
const fixedBytes = 1 + 16 + 32;

/**
 * The project's link key: derived from the server's pepper and the project id, so each project
 * has its own without one more secret to keep; rotating the pepper invalidates every link.
 */
const keyOf = (projectId: string) => hmac("unsubscribe-link-key", projectId);

const sign = (projectId: string, body: Buffer) =>
  createHmac("sha256", keyOf(projectId)).update(body).digest();

const uuidBytes = (id: string) => Buffer.from(id.replaceAll("-", ""), "hex");
const uuidOf = (bytes: Buffer) => {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export function tokenOf(claims: Claims): string {
  const body = Buffer.concat([
    Buffer.from([version]),
    uuidBytes(claims.projectId),
    Buffer.from(claims.recipientHmac, "hex"),
    Buffer.from(claims.category, "utf8"),
  ]);
  return Buffer.concat([body, sign(claims.projectId, body)]).toString("base64url");
}

/** The claims of a token this server signed, or undefined for any other string. */
export function verify(token: string): Claims | undefined {
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, "base64url");
  if (bytes.length <= fixedBytes + signatureBytes || bytes[0] !== version) return undefined;
  const body = bytes.subarray(0, bytes.length - signatureBytes);
  const signature = bytes.subarray(bytes.length - signatureBytes);
  const projectId = uuidOf(body.subarray(1, 17));
  if (!timingSafeEqual(signature, sign(projectId, body))) return undefined;
  return {
    projectId,
    recipientHmac: body.subarray(17, fixedBytes).toString("hex"),
    category: body.subarray(fixedBytes).toString("utf8"),
  };
}
