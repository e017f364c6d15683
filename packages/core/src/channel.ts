import { z } from "zod";

/** The ways Pregón sends a message: each has its own topic, queue and sender. */
export const Channel = z.enum(["email", "sms", "push"]);
export type Channel = z.infer<typeof Channel>;

/** The push platforms a device registers with: Apple's APNs, Google's FCM (Android, web). */
export const Platform = z.enum(["apns", "fcm"]);
export type Platform = z.infer<typeof Platform>;
