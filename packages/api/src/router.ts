import { auditRouter } from "./routers/audit";
import { categoriesRouter } from "./routers/categories";
import { devicesRouter } from "./routers/devices";
import { emailsRouter } from "./routers/emails";
import { issuersRouter } from "./routers/issuers";
import { keysRouter } from "./routers/keys";
import { meRouter } from "./routers/me";
import { notificationsRouter } from "./routers/notifications";
import { otpRouter } from "./routers/otp";
import { preferencesRouter } from "./routers/preferences";
import { pushRouter } from "./routers/push";
import { smsRouter } from "./routers/sms";
import { suppressionsRouter } from "./routers/suppressions";
import { templatesRouter } from "./routers/templates";
import { webhooksRouter } from "./routers/webhooks";
import { router } from "./trpc";

export const appRouter = router({
  me: meRouter,
  keys: keysRouter,
  issuers: issuersRouter,
  emails: emailsRouter,
  sms: smsRouter,
  push: pushRouter,
  devices: devicesRouter,
  notifications: notificationsRouter,
  templates: templatesRouter,
  otp: otpRouter,
  suppressions: suppressionsRouter,
  categories: categoriesRouter,
  preferences: preferencesRouter,
  audit: auditRouter,
  webhooks: webhooksRouter,
});

export type AppRouter = typeof appRouter;
