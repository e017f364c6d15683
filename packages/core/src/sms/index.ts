import { z } from "zod";
import * as Actor from "../actor";
import type * as Dispatch from "../delivery/dispatch";
import { dispatch } from "../delivery/dispatch";
import { AppError } from "../error";
import * as Fraud from "../fraud";
import * as Idempotency from "../idempotency";
import * as Notification from "../notification";
import { Phone } from "../phone";
import * as Template from "../template";
import { type SmsGateway, type SmsType, segments } from "./gateway";

export { defaultCountries, Phone } from "../phone";
export { type OutgoingSms, type SmsGateway, type SmsType, segments } from "./gateway";
export { snsSmsGateway } from "./sns";

export const maxRecipients = 1_000;

const Variables = z.record(z.string(), z.unknown());

export const SendInput = z
  .strictObject({
    to: z
      .array(
        z.union([
          Phone,
          z.strictObject({
            phone: Phone,
            variables: Variables.optional().meta({ description: "Override the shared variables" }),
          }),
        ]),
      )
      .min(1)
      .max(maxRecipients)
      .meta({ description: "One SMS each; repeated numbers are dropped" }),
    text: z
      .string()
      .min(1)
      .max(1_600)
      .optional()
      .meta({ description: "LiquidJS template; sent as 1 or more segments" }),
    template: z
      .strictObject({ key: Template.Key, locale: Template.Locale.optional() })
      .optional()
      .meta({ description: "A stored template (its `text` is sent), instead of `text`" }),
    type: z
      .enum(["transactional", "promotional"])
      .default("transactional")
      .meta({ description: "Transactional: highest reliability; promotional: lowest cost" }),
    variables: Variables.optional().meta({ description: "Shared by every recipient" }),
    tags: Notification.Tags.optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.text === undefined) === (input.template === undefined)) {
      ctx.addIssue({ code: "custom", path: ["text"], message: "Give text or a template" });
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export interface Settings {
  /** ISO 3166 alpha-2 codes numbers may belong to (`defaultCountries` unless the deployment says). */
  countries: string[];
}

export type Accepted = Notification.Accepted<"sms">;

/** What an SMS notification keeps: inline text or the template version, and the SMS type. */
export interface Content {
  text?: string;
  template?: Template.Ref;
  type: SmsType;
  /** A one-time code's message: its code is made at send time (`code` variable). */
  otp?: { id: string };
}

async function textOf(content: Content): Promise<string> {
  if (!content.template) return content.text!;
  const source = await Template.load(content.template.version);
  if (!source.text) throw new AppError("invalid_template", "The template has no text for SMS");
  return source.text;
}

/**
 * Accepts an SMS of the actor's project to many numbers: checks each number's country, drops
 * repeats, takes the limits, then checks the text (rendered for the first number) and writes the
 * notification, one delivery per number and the queue messages in one transaction.
 */
export async function send(
  input: SendInput,
  settings: Settings,
  options: { idempotencyKey?: string | undefined } = {},
): Promise<Accepted> {
  const projectId = Actor.projectId();
  const claim = Idempotency.claim(options.idempotencyKey, "sms.send", input);
  const replay = await Idempotency.replay<Accepted>(claim);
  if (replay) return replay;

  const seen = new Set<string>();
  const recipients: Notification.Recipient[] = [];
  for (const [i, entry] of input.to.entries()) {
    const { phone, variables } = typeof entry === "string" ? { phone: entry } : entry;
    if (seen.has(phone)) continue;
    seen.add(phone);
    await Fraud.assertSmsCountry(phone, settings.countries, `to.${i}`, {
      destinationHmac: Notification.recipientHmac(projectId, "sms", phone),
    });
    recipients.push({
      position: recipients.length,
      address: phone,
      name: null,
      variables: variables ?? null,
      status: "queued",
    });
  }

  // The daily recipients limit is the project's SMS budget: past it, sends are refused (429).
  return Notification.accept({
    claim,
    channel: "sms",
    async content() {
      const { type, template } = input;
      const content: Content = template
        ? { type, template: await Template.ref(template.key, template.locale) }
        : { type, text: input.text! };
      const compiled = await Template.compileText(await textOf(content));
      Template.renderText(
        compiled,
        { ...input.variables, ...recipients[0]!.variables },
        Template.budget(),
      );
      return content;
    },
    variables: input.variables ?? {},
    tags: input.tags,
    recipients,
    duplicates: input.to.length - recipients.length,
  });
}

export interface DeliverOptions extends Dispatch.DispatchOptions {
  gateway: SmsGateway;
}

/** Sends the deliveries of one SMS queue message (see `Dispatch.dispatch`). */
export function deliver(deliveryIds: string[], options: DeliverOptions) {
  return dispatch(deliveryIds, options, {
    name: "sms",
    metric: "Sms",
    async prepare(row) {
      const content = row.content as Content;
      return { type: content.type, compiled: await Template.compileText(await textOf(content)) };
    },
    async send(delivery, { type, compiled }, variables) {
      const text = Template.renderText(compiled, variables, Template.budget());
      const { messageId } = await options.gateway.send({ to: delivery.address, text, type });
      return { messageId, segments: segments(text) };
    },
  });
}
