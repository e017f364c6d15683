export * from "../apikey/apikey.sql";
export * from "../delivery/delivery.sql";
export * from "../notification/notification.sql";
export * from "../outbox/outbox.sql";
export * from "../project/project.sql";
