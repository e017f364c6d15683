import type {
  ApiKey,
  Category,
  Device,
  Issuer,
  Otp,
  Preference,
  Suppression,
  Template,
  Webhook,
} from "@pregon/core";
import type { z } from "zod";

/** Example records the OpenAPI document shows (in the procedures' `example` meta). */

export const exampleIds = {
  project: "0b7e2c1a-5d4f-4e8a-9c3b-2a1f6e7d8c90",
  notification: "8d3c1f6a-2e7b-4c9d-a1f0-5b6e7c8d9a02",
  delivery: "c2a4e6f8-1b3d-4f5a-9b7c-0d2e4f6a8b1c",
};

export const exampleTime = "2025-06-01T12:00:00.000Z";

export const exampleKey: ApiKey.Info = {
  id: "3f9a7c2e-1b4d-4a6f-8e5c-7d2b9a0c1e34",
  projectId: exampleIds.project,
  name: "billing",
  hint: "prg_…x9Qz",
  scopes: ["emails:send"],
  createdAt: exampleTime,
  revokedAt: null,
};

export const exampleIssuer: Issuer.Info = {
  id: "9c4e2a7b-6d1f-4b3e-a5c8-1f0e9d8c7b6a",
  projectId: exampleIds.project,
  issuer: "https://auth.example.com/",
  audience: "https://pregon.example.com",
  jwksUrl: null,
  scopeClaim: "scope",
  scopes: null,
  createdAt: exampleTime,
};

export const exampleOtp: z.infer<typeof Otp.Status> = {
  id: "5e1d9c7b-3a2f-4e6d-8c0b-9a7f5e3d1c2b",
  channel: "email",
  to: "a***@example.com",
  purpose: "login",
  status: "pending",
  attemptsRemaining: 5,
  expiresAt: "2025-06-01T12:05:00.000Z",
  createdAt: exampleTime,
};

export const exampleTemplate: Template.Info = {
  key: "welcome",
  locale: "es-MX",
  version: `projects/${exampleIds.project}/templates/welcome/es-MX/0197f1c4-7a2b-7c3d-9e4f-5a6b7c8d9e0f.json`,
  updatedAt: exampleTime,
};

export const exampleCategory: Category.Info = {
  key: "newsletter",
  name: "Newsletter",
  description: "News from us, once a month",
  optedInByDefault: true,
  createdAt: exampleTime,
  updatedAt: exampleTime,
};

export const examplePreference: Preference.Info = {
  category: "newsletter",
  subscribed: false,
  source: "link",
  updatedAt: exampleTime,
};

export const exampleSuppression: Suppression.Info = {
  channel: "email",
  address: "ana@example.com",
  reason: "manual",
  createdAt: exampleTime,
};

export const exampleDevice: Device.Info = {
  id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  userId: "user-42",
  platform: "apns",
  active: true,
  createdAt: exampleTime,
  updatedAt: exampleTime,
};

export const exampleWebhook: Webhook.Endpoint = {
  id: "6a2f8e4c-0b1d-4c7e-9f3a-5d8b2e6c1f07",
  projectId: exampleIds.project,
  url: "https://hooks.example.com/pregon",
  description: "Bounces to the CRM",
  eventTypes: ["delivery.bounced", "delivery.complained"],
  status: "enabled",
  disabledReason: null,
  failingSince: null,
  createdAt: exampleTime,
  updatedAt: exampleTime,
};

export const exampleAttempt: Webhook.Attempt = {
  id: 381,
  messageId: "d4b8f2a6-3c1e-4a9d-8b7f-6e5c4d3b2a10",
  eventId: "1f0c9e8d-7b6a-4c5d-9e8f-a0b1c2d3e4f5",
  eventType: "delivery.bounced",
  trigger: "scheduled",
  status: "succeeded",
  responseStatus: 204,
  responseExcerpt: null,
  error: null,
  latencyMs: 87,
  attemptedAt: exampleTime,
};
