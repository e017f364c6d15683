import { z } from "zod";

/** The ways Pregón sends a message: each has its own topic, queue and sender. */
export const Channel = z.enum(["email", "sms", "push"]);
export type Channel = z.infer<typeof Channel>;
