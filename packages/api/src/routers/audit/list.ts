import * as Audit from "@pregon/core/audit";
import { z } from "zod";
import { scopedProcedure } from "../../trpc";
import { exampleIds, exampleKey, exampleTime } from "../examples";

/** An ISO instant the database can compare: Postgres has no year 0. */
const Instant = z.iso
  .datetime()
  .refine((value) => !value.startsWith("0000"), "Year 0 is not a date")
  .optional();

export const list = scopedProcedure("audit:read")
  .meta({
    example: {
      request: { type: "delivery.bounced", limit: 50 },
      response: {
        events: [
          {
            id: 1042,
            type: "delivery.bounced",
            subjectId: exampleIds.delivery,
            notificationId: exampleIds.notification,
            keyId: exampleKey.id,
            channel: "email",
            recipientHmac: "b3f1c0de9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e",
            status: "bounced",
            requestId: "7f3c2a1b-9d8e-4c7b-a6f5-e4d3c2b1a098",
            fact: {
              type: "delivery.bounced",
              version: 1,
              id: "1f0c9e8d-7b6a-4c5d-9e8f-a0b1c2d3e4f5",
              occurredAt: exampleTime,
              projectId: exampleIds.project,
              actor: { type: "system", reason: "feedback" },
              subject: exampleIds.delivery,
              data: {
                deliveryId: exampleIds.delivery,
                notificationId: exampleIds.notification,
                channel: "email",
                recipientHmac: "b3f1c0de9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e",
                status: "bounced",
              },
            },
            occurredAt: exampleTime,
            recordedAt: exampleTime,
          },
        ],
        nextCursor: null,
      },
    },
    openapi: {
      method: "GET",
      path: "/v1/audit",
      tags: ["audit"],
      summary: "List audit events",
      description:
        "The project's recorded facts (accepted, sent, failed, delivered, bounced, complained, suppressed, …), newest first; filter by type, subject, notification and time; paginated by cursor.",
    },
  })
  .input(
    z.strictObject({
      type: z.string().max(100).optional().meta({ description: "e.g. delivery.bounced" }),
      subjectId: z
        .uuid()
        .optional()
        .meta({ description: "What the event is about: a delivery, notification, OTP or key id" }),
      notificationId: z
        .uuid()
        .optional()
        .meta({ description: "Every event of one send: its acceptance and its deliveries' facts" }),
      since: Instant,
      until: Instant,
      cursor: z.coerce
        .number()
        .int()
        .positive()
        .optional()
        .meta({ description: "nextCursor of the previous page" }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  )
  .output(z.object({ events: z.array(Audit.Event), nextCursor: z.number().int().nullable() }))
  .query(({ input }) => Audit.list(input));
