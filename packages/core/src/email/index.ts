import { z } from "zod";
import * as Category from "../category";
import * as Dispatch from "../delivery/dispatch";
import { AppError } from "../error";
import * as Idempotency from "../idempotency";
import * as Notification from "../notification";
import * as Preference from "../preference";
import * as Reputation from "../reputation";
import * as Template from "../template";
import { formatMailbox, MailboxText, parseMailbox } from "./address";
import type { Mailer } from "./mailer";

export { formatMailbox, type Mailbox, MailboxText, parseMailbox } from "./address";
export {
  type DomainCheck,
  type DomainRecord,
  domainRecords,
  type IdentityFacts,
  sesIdentity,
} from "./domain";
export { type Mailer, type OutgoingEmail, SendError } from "./mailer";
export { maxSendRate, sesMailer } from "./ses";

export const maxRecipients = 10_000;

const noLineBreak = (s: string) => !/[\r\n]/.test(s);
const Variables = z.record(z.string(), z.unknown());

export const Recipient = z.union([
  z.email(),
  z.strictObject({
    email: z.email(),
    name: z.string().max(200).refine(noLineBreak, "must be one line").optional(),
    variables: Variables.optional().meta({ description: "Override the shared variables" }),
  }),
]);

export const SendInput = z
  .strictObject({
    to: z
      .array(Recipient)
      .min(1)
      .max(maxRecipients)
      .meta({ description: "One message each; repeated addresses (any case) are dropped" }),
    from: MailboxText.optional().meta({
      description: "The From address, `address` or `Name <address>`; one the deployment allows",
    }),
    replyTo: MailboxText.optional().meta({ description: "`address` or `Name <address>`" }),
    template: z
      .strictObject({ key: Template.Key, locale: Template.Locale.optional() })
      .optional()
      .meta({
        description: "A stored template (PUT /v1/templates/{key}), instead of inline content",
      }),
    subject: z.string().min(1).max(998).optional().meta({ description: "LiquidJS template" }),
    html: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "LiquidJS template; values are HTML-escaped" }),
    text: z.string().min(1).optional().meta({ description: "LiquidJS template" }),
    variables: Variables.optional().meta({ description: "Shared by every recipient" }),
    tags: Notification.Tags.optional(),
    category: Category.Key.optional().meta({
      description:
        "`transactional` (the default: receipts, codes; no unsubscribe link, preferences ignored) or a category of the project (PUT /v1/categories/{key}): its emails carry a one-click unsubscribe link and skip recipients who opted out",
    }),
  })
  .superRefine((input, ctx) => {
    const inline =
      input.subject !== undefined || input.html !== undefined || input.text !== undefined;
    if (input.template && inline) {
      ctx.addIssue({
        code: "custom",
        path: ["template"],
        message: "Give a template or inline content, not both",
      });
    } else if (!input.template) {
      if (input.subject === undefined) {
        ctx.addIssue({ code: "custom", path: ["subject"], message: "Required without a template" });
      }
      if (input.html === undefined && input.text === undefined) {
        ctx.addIssue({ code: "custom", path: ["html"], message: "Give html, text or both" });
      }
    }
  });
export type SendInput = z.infer<typeof SendInput>;

export interface Settings {
  /** The From address when a request names none. */
  from: string;
  /**
   * The addresses and `@domain`s requests may use as their From address (the deployment's
   * PREGON_EMAIL_SENDERS).
   */
  senders: string[];
}

export type Accepted = Notification.Accepted<"email">;

/** What a notification keeps: the From address, and inline content or the template version used. */
export interface Content extends Partial<Template.Content> {
  from: string;
  replyTo: string | null;
  template?: Template.Ref;
  /** A one-time code's message: its code is made at send time (`code` variable). */
  otp?: { id: string };
  /** A category other than transactional: each message carries its unsubscribe link. */
  category?: string;
}

/** The template sources of a notification's content: inline, or the recorded version from S3. */
async function sourceOf(content: Content): Promise<Template.Content> {
  if (content.template) return Template.load(content.template.version);
  return { subject: content.subject!, html: content.html ?? null, text: content.text ?? null };
}

/** One mailbox, rebuilt: what headers carry is never the text as sent. */
function mailbox(text: string, field: string) {
  const parsed = parseMailbox(text);
  if (!parsed) throw new AppError("invalid_input", `${field}: must be one email address`);
  return parsed;
}

function assertFromAllowed({ address }: { address: string }, allowedFrom: string[]) {
  const domain = address.slice(address.lastIndexOf("@"));
  const allowed = allowedFrom.map((s) => s.toLowerCase());
  if (!allowed.includes(address) && !allowed.includes(domain)) {
    throw new AppError("sender_not_allowed", `from: ${address} is not an allowed From address`);
  }
}

/**
 * The request's recipients without repeats (any case; the first wins), and where each stood in
 * `to`. No rendering: their count is what the limits take.
 */
function recipientsOf(input: SendInput): { recipients: Notification.Recipient[]; at: number[] } {
  const seen = new Set<string>();
  const recipients: Notification.Recipient[] = [];
  const at: number[] = [];
  for (const [i, entry] of input.to.entries()) {
    const recipient = typeof entry === "string" ? { email: entry } : entry;
    const key = recipient.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    at.push(i);
    recipients.push({
      position: recipients.length,
      address: recipient.email,
      name: recipient.name ?? null,
      variables: recipient.variables ?? null,
      status: "queued",
    });
  }
  return { recipients, at };
}

/** What the notification keeps: the From address, and the inline content or the template version. */
async function contentOf(
  input: SendInput,
  { from, replyTo }: { from: string; replyTo: string | null },
): Promise<Content> {
  if (!input.template) {
    const { subject, html, text } = input;
    return { from, replyTo, subject: subject!, html: html ?? null, text: text ?? null };
  }
  const { key, locale } = input.template;
  return { from, replyTo, template: await Template.ref(key, locale) };
}

/**
 * Renders what must be right before a 202, within one render budget: every recipient's subject
 * (a line break is refused) and the first recipient's whole message. The rest are rendered at send
 * time.
 * An error names the recipient by its place in `to`.
 */
function checkRenders(
  compiled: Template.Compiled,
  shared: Template.Variables,
  recipients: Notification.Recipient[],
  at: number[],
): void {
  const budget = Template.budget();
  // A render depends on the template and the variables alone: recipients without variables of
  // their own share one subject, rendered (and checked) once.
  let sharedChecked = false;
  for (const [n, recipient] of recipients.entries()) {
    const own = recipient.variables !== null && Object.keys(recipient.variables).length > 0;
    if (n > 0 && !own && sharedChecked) continue;
    const variables = own ? { ...shared, ...recipient.variables } : shared;
    try {
      if (n === 0) Template.render(compiled, variables, budget);
      else Template.renderSubject(compiled, variables, budget);
      if (!own) sharedChecked = true;
    } catch (error) {
      if (error instanceof AppError) {
        throw new AppError(error.reason, `to.${at[n]}: ${error.message}`);
      }
      throw error;
    }
  }
}

/**
 * Accepts an email of the actor's project to many recipients: checks the From address, drops repeated
 * recipients, takes the limits, then checks the content and writes the notification, one delivery
 * per recipient and the queue messages in one transaction. The messages are published after the
 * commit (or by the sweeper, if that fails).
 */
export async function send(
  input: SendInput,
  settings: Settings,
  options: { idempotencyKey?: string | undefined } = {},
): Promise<Accepted> {
  const claim = Idempotency.claim(options.idempotencyKey, "emails.send", input);
  // A repeated request gets its first answer, before any check or limit.
  const replay = await Idempotency.replay<Accepted>(claim);
  if (replay) return replay;

  const fromMailbox = mailbox(input.from ?? settings.from, "from");
  assertFromAllowed(fromMailbox, settings.senders);
  const from = formatMailbox(fromMailbox);
  const replyTo = input.replyTo ? formatMailbox(mailbox(input.replyTo, "replyTo")) : null;
  const shared = input.variables ?? {};
  const { recipients, at } = recipientsOf(input);
  const category =
    input.category && input.category !== Category.transactional
      ? await Category.get(input.category)
      : undefined;
  if (category) await Reputation.assertSending(category.key);

  return Notification.accept({
    claim,
    channel: "email",
    async content() {
      const content = await contentOf(input, { from, replyTo });
      checkRenders(await Template.compile(await sourceOf(content)), shared, recipients, at);
      return category ? { ...content, category: category.key } : content;
    },
    ...(category && { optedOut: (hmacs: string[]) => Preference.optedOut(category, hmacs) }),
    variables: shared,
    tags: input.tags,
    recipients,
    duplicates: input.to.length - recipients.length,
  });
}

export interface DeliverOptions extends Dispatch.DispatchOptions {
  mailer: Mailer;
}

/** Email through the dispatcher: templates compiled once per notification, sent by the mailer. */
function channel(
  mailer: Mailer,
): Dispatch.Channel<{ content: Content; compiled: Template.Compiled }> {
  return {
    name: "email",
    metric: "Emails",
    async prepare(row) {
      const content = row.content as Content;
      return { content, compiled: await Template.compile(await sourceOf(content)) };
    },
    send(delivery, { content, compiled }, variables) {
      const link = content.category
        ? Preference.linkOf({
            projectId: delivery.projectId,
            category: content.category,
            recipientHmac:
              delivery.recipientHmac ??
              Notification.recipientHmac(delivery.projectId, "email", delivery.address),
          })
        : undefined;
      const rendered = Template.render(
        compiled,
        link ? { ...variables, unsubscribe_url: link.url } : variables,
        Template.budget(),
      );
      return mailer.send({
        from: content.from,
        to: formatMailbox({ address: delivery.address, name: delivery.name }),
        replyTo: content.replyTo ?? undefined,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        tags: [{ name: "delivery_id", value: delivery.id }],
        ...(link && { headers: link.headers }),
      });
    },
  };
}

/** Sends the deliveries of one email queue message (see `Dispatch.dispatch`). */
export function deliver(deliveryIds: string[], options: DeliverOptions) {
  return Dispatch.dispatch(deliveryIds, options, channel(options.mailer));
}
