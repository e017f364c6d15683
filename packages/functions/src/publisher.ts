import type * as Outbox from "@pregon/core/outbox";
import { linkedTopicArns } from "./config";
import { onFirstUse } from "./lazy";

/**
 * The linked topics as core's publisher. The SNS client, about a fifth of what the API's import
 * loads, is imported when the first message or fact is published, not at the cold start: requests
 * that publish nothing (reads, refusals) never load it, and the first that publishes pays for
 * loading it (docs/deploy.md, "Bundles"). A function whose every invocation publishes imports
 * `./publisher-sns` itself, so its import loads the client.
 */
export function snsTopics(): Outbox.Publisher {
  const arns = linkedTopicArns();
  const open = onFirstUse(() =>
    import("./publisher-sns").then(({ snsTopicsPublisher }) => snsTopicsPublisher(arns)),
  );
  return { publish: async (topic, bodies) => (await open()).publish(topic, bodies) };
}
