import { z } from "zod";
import { Channel } from "../channel";
import * as Fact from "../fact";
import { Phone } from "../phone";
import * as Template from "../template";

/** The channels a code goes by. */
export const OtpChannel = Channel.extract(["email", "sms"]);
export type OtpChannel = z.infer<typeof OtpChannel>;

export const SendInput = z
  .strictObject({
    channel: OtpChannel,
    to: z
      .string()
      .min(3)
      .max(320)
      .meta({ description: "The destination: an email address, or an E.164 phone number for sms" }),
    purpose: z
      .string()
      .regex(/^[a-z0-9_-]{1,40}$/)
      .default("login"),
    length: z.number().int().min(4).max(10).default(6),
    ttlSeconds: z.number().int().min(60).max(600).default(300),
    template: z
      .strictObject({ key: Template.Key, locale: Template.Locale.optional() })
      .optional()
      .meta({ description: "A stored template with `code`, `expiresInMinutes`, `purpose`" }),
    locale: Template.Locale.optional().meta({ description: "Of the built-in message (en, es)" }),
    clientIp: z
      .union([z.ipv4(), z.ipv6()])
      .optional()
      .meta({ description: "The end user's IP, for per-IP velocity limits" }),
  })
  .superRefine((input, ctx) => {
    if (input.channel === "email" && !z.email().safeParse(input.to).success) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "must be an email address" });
    }
    if (input.channel === "sms" && !Phone.safeParse(input.to).success) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: "must be a valid phone number in E.164 form",
      });
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export const Sent = z.object({
  id: z.uuid(),
  channel: OtpChannel,
  to: z.string().meta({ description: "The destination, masked" }),
  expiresAt: z.iso.datetime(),
  resendAvailableAt: z.iso.datetime(),
});
export type Sent = z.infer<typeof Sent>;

export const VerifyReason = z.enum([
  "invalid",
  "expired",
  "used",
  "canceled",
  "max_attempts",
  "locked",
  "not_found",
]);
export type VerifyReason = z.infer<typeof VerifyReason>;

export const Verified = z.union([
  z.object({ valid: z.literal(true) }),
  z.object({ valid: z.literal(false), reason: VerifyReason, attemptsRemaining: z.number().int() }),
]);
export type Verified = z.infer<typeof Verified>;

export const Status = z.object({
  id: z.uuid(),
  channel: OtpChannel,
  to: z.string(),
  purpose: z.string(),
  status: z.enum(["pending", "verified", "canceled", "expired"]),
  attemptsRemaining: z.number().int(),
  expiresAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
});
export type Status = z.infer<typeof Status>;

const OtpData = z.object({ otpId: z.uuid().meta({ description: "The one-time code's id" }) });

/** A fact about a code whose data is its id alone. */
const aboutCode = (type: string) =>
  Fact.define(type, { version: 1, subject: "otpId", data: OtpData });

export const facts = {
  issued: Fact.define("otp.issued", {
    version: 1,
    subject: "otpId",
    data: OtpData.extend({ channel: Fact.fields.channel }),
  }),
  verified: aboutCode("otp.verified"),
  failed: aboutCode("otp.failed"),
  locked: aboutCode("otp.locked"),
};
