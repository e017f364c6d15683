export { hmac } from "../crypto";
export { contentHook, issueCode } from "./code";
export { purge } from "./purge";
export { configure, defaultRules, type Rules } from "./rules";
export {
  facts,
  OtpChannel,
  SendInput,
  Sent,
  Status,
  Verified,
  VerifyReason,
} from "./schema";
export { send } from "./send";
export { cancel, get } from "./status";
export { verify } from "./verify";
