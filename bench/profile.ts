// Where a server's CPU went: a V8 CPU profile (`node --cpu-prof`, JSON) cut to the time windows
// of one kind of request, summed by function (self time: the samples taken while that function
// itself was running) and by package.

/** The parts of a .cpuprofile this reads (Chrome DevTools protocol `Profiler.Profile`). */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  /** Monotonic clock, µs. */
  startTime: number;
  endTime: number;
  /** The node running at each sample… */
  samples: number[];
  /** …and the µs since the sample before it (the first: since startTime). */
  timeDeltas: number[];
}

export interface SelfTime {
  /** Function name, then where it is (repo-relative path or package path, and line). */
  name: string;
  where: string;
  ms: number;
  /** Of the busy (not idle) time in the windows. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time in the windows, and how much of it the process was busy. */
  windowMs: number;
  busyMs: number;
  functions: SelfTime[];
  packages: Array<{ name: string; ms: number; share: number }>;
}

/** `node --cpu-prof`'s default sampling interval, which the bench's servers run with. */
const samplingMicros = 1000;

/** A path under the repo (or a package's own path under node_modules), or Node's own module. */
function whereOf(url: string): { where: string; pack: string } {
  if (!url) return { where: "", pack: "(V8 and native)" };
  const path = url.replace(/^file:\/\//, "");
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (module) return { where: `${module[1]}/${module[2]}`, pack: module[1]! };
  if (path.startsWith("node:")) return { where: path, pack: "node (built-in)" };
  const repo = /\/(packages\/([^/]+)\/.*|bench\/.*)$/.exec(path);
  if (repo) return { where: repo[1]!, pack: repo[2] ? `@pregon/${repo[2]}` : "bench" };
  return { where: path, pack: path };
}

/**
 * Self time per function and per package over the samples taken inside `windows` ([from, to], µs
 * on the monotonic clock `process.hrtime` reads), the `top` largest of each.
 */
export function summarise(
  profile: CpuProfile,
  windows: Array<[number, number]>,
  top = 5,
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, SelfTime>();
  const byPackage = new Map<string, number>();
  let windowMs = 0;
  let busyMs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    if (!windows.some(([from, to]) => at >= from && at <= to)) continue;
    // A sample stands for the time until the next one, but for no more than two sampling
    // intervals: a longer gap is time the process was not running (the machine's other work took
    // the core), which would otherwise be charged to whatever function was sampled before it.
    const gap = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]!;
    windowMs += gap / 1000;
    const ms = Math.min(gap, 2 * samplingMicros) / 1000;
    const { callFrame } = nodes.get(profile.samples[i]!)!;
    if (callFrame.functionName === "(idle)") continue;
    busyMs += ms;
    const { where, pack } = whereOf(callFrame.url);
    const name = callFrame.functionName || "(anonymous)";
    const line = where ? `${where}:${callFrame.lineNumber + 1}` : "";
    const key = `${name} ${line}`;
    const entry = byFunction.get(key) ?? { name, where: line, ms: 0, share: 0 };
    entry.ms += ms;
    byFunction.set(key, entry);
    const packName = name.startsWith("(") && !where ? name : pack;
    byPackage.set(packName, (byPackage.get(packName) ?? 0) + ms);
  }
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    windowMs,
    busyMs,
    functions: [...byFunction.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: share(entry.ms) })),
    packages: [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: share(ms) })),
  };
}

/** Now on the clock the profile's timestamps use, in µs. */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
