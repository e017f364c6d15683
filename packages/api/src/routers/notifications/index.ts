import { router } from "../../trpc";
import { deliveries } from "./deliveries";
import { get } from "./get";

export const notificationsRouter = router({ get, deliveries });
