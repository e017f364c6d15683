import { auditRouter } from "./routers/audit";
import { emailsRouter } from "./routers/emails";
import { keysRouter } from "./routers/keys";
import { meRouter } from "./routers/me";
import { notificationsRouter } from "./routers/notifications";
import { otpRouter } from "./routers/otp";
import { smsRouter } from "./routers/sms";
import { suppressionsRouter } from "./routers/suppressions";
import { templatesRouter } from "./routers/templates";
import { router } from "./trpc";

export const appRouter = router({
  me: meRouter,
  keys: keysRouter,
  emails: emailsRouter,
  sms: smsRouter,
  notifications: notificationsRouter,
  templates: templatesRouter,
  otp: otpRouter,
  suppressions: suppressionsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
