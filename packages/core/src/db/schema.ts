export * from "../apikey/apikey.sql";
export * from "../delivery/delivery.sql";
export * from "../idempotency/idempotency.sql";
export * from "../notification/notification.sql";
export * from "../outbox/outbox.sql";
export * from "../project/project.sql";
export * from "../ratelimit/ratelimit.sql";
export * from "../suppression/suppression.sql";
