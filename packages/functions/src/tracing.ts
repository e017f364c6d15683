import type { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * X-Ray tracing, where the stage turns it on (PREGON_TRACING=true, which infra/ sets together with
 * the function's active tracing). Imported only then: the X-Ray SDK hooks every asynchronous
 * operation of the process once loaded, and a bundle's unused modules cost no evaluation.
 */
const tracer: Tracer | undefined =
  process.env.PREGON_TRACING === "true"
    ? new (await import("@aws-lambda-powertools/tracer")).Tracer({
        serviceName: "pregon",
        // The functions make no request but their AWS SDK calls, which `traced` captures.
        captureHTTPsRequests: false,
      })
    : undefined;

/** An AWS SDK client whose calls become subsegments of the trace; untouched when not tracing. */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * A Lambda handler whose invocations become subsegments, annotated with the cold start, the
 * service and the stage; untouched when not tracing. Neither the response nor an error's message is
 * recorded (either can quote an address or a body): a failure only marks the subsegment a fault.
 */
export function tracedHandler<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const active = tracer;
  if (!active) return handler;
  const name = `## ${process.env._HANDLER ?? "handler"}`;
  return async (...args: A) => {
    const segment = active.getSegment();
    const subsegment = segment?.addNewSubsegment(name);
    if (subsegment) active.setSegment(subsegment);
    active.annotateColdStart();
    active.addServiceNameAnnotation();
    if (process.env.PREGON_STAGE) active.putAnnotation("stage", process.env.PREGON_STAGE);
    try {
      return await handler(...args);
    } catch (error) {
      subsegment?.addFaultFlag();
      throw error;
    } finally {
      subsegment?.close();
      if (segment) active.setSegment(segment);
    }
  };
}
