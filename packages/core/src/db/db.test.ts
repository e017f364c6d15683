import { randomUUID } from "node:crypto";
import { SNSClient } from "@aws-sdk/client-sns";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { pipelines, stack } from "../../../../test/support/setup";
import { Database, Outbox, snsPublisher } from "../index";

/** Postgres's id of the transaction a query runs in (null outside one: each statement its own). */
const transactionId = async () => {
  const [row] = await Database.use().execute<{ id: string | null }>(
    sql`select pg_current_xact_id_if_assigned()::text as id`,
  );
  return row!.id;
};

/** A transaction that registers an effect (pushing "rolled back" to `ran`), then rolls back. */
const rollBack = (ran: string[]) =>
  expect(
    Database.transaction(async () => {
      await Database.afterCommit(async () => {
        ran.push("rolled back");
      });
      throw new Error("refused");
    }),
  ).rejects.toThrow("refused");

describe("Database.transaction", () => {
  it("runs its effects after the outermost commit, before it returns", async () => {
    const ran: string[] = [];
    const result = await Database.transaction(async (tx) => {
      await Database.afterCommit(async () => {
        ran.push("first");
      });
      // An inner call joins the transaction: its effects wait for the outer commit.
      await Database.transaction(async (inner) => {
        expect(inner).toBe(tx);
        expect(Database.use()).toBe(tx);
        await Database.afterCommit(async () => {
          ran.push("second");
        });
      });
      expect(ran).toEqual([]);
      return "done";
    });
    expect(result).toBe("done");
    expect(ran.sort()).toEqual(["first", "second"]);
  });

  it("runs no effect when it rolls back, and a failing effect fails nothing", async () => {
    const ran: string[] = [];
    await rollBack(ran);
    expect(ran).toEqual([]);

    const value = await Database.transaction(async () => {
      await Database.afterCommit(async () => {
        throw new Error("publish failed");
      });
      await Database.afterCommit(async () => {
        ran.push("after the failure");
      });
      return 1;
    });
    expect(value).toBe(1);
    expect(ran).toEqual(["after the failure"]);
    // Outside a transaction what was written has committed: the effect runs at once.
    await Database.afterCommit(async () => {
      ran.push("now");
    });
    expect(ran).toEqual(["after the failure", "now"]);
  });

  it("holds the effects of what commits in a batch until the batch ends", async () => {
    const ran: string[] = [];
    await Database.batch(async () => {
      await Database.transaction(async () => {
        await Database.afterCommit(async () => {
          ran.push("committed");
        });
      });
      await rollBack(ran);
      await Database.afterCommit(async () => {
        ran.push("on its own");
      });
      expect(ran).toEqual([]);
    });
    expect(ran.sort()).toEqual(["committed", "on its own"]);
  });

  it("gives the open transaction to every query inside it, and the pool elsewhere", async () => {
    await Database.transaction(async (tx) => {
      await tx.execute(sql`select pg_current_xact_id()`);
      const id = await transactionId();
      expect(id).not.toBeNull();
      // A query that does not take the transaction still runs in it.
      expect(await Promise.all([transactionId(), transactionId()])).toEqual([id, id]);
    });
    expect(await transactionId()).toBeNull();
  });
});

describe("statements", () => {
  /** Whether the statement itself runs prepared (a named prepared statement of its session). */
  const preparedWith = async (params: number[]) => {
    const [row] = await Database.use().execute<{ prepared: boolean }>(
      sql`select exists (select from pg_prepared_statements where statement = current_query())
            as prepared where 0 not in (${sql.join(
              params.map((n) => sql`${n}::int`),
              sql`, `,
            )})`,
    );
    return row!.prepared;
  };

  it("are prepared once per connection when they have parameters, in a transaction or not", async () => {
    expect(await preparedWith([1, 2])).toBe(true);
    expect(await Database.transaction(() => preparedWith([1, 2, 3]))).toBe(true);
  });

  it("are not prepared with a long list of parameters, whose text changes with its length", async () => {
    const many = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(await preparedWith(many)).toBe(false);
  });
});

describe("Database.readTogether", () => {
  it("runs every read in one statement and gives each its own value, parsed its way", async () => {
    const startedAt: Database.Read<string> = {
      sql: sql`select statement_timestamp()::text`,
      parse: String,
    };
    const read = await Database.readTogether({
      first: startedAt,
      second: startedAt,
      count: { sql: sql`select count(*)::int from generate_series(1, 3)`, parse: Number },
      none: { sql: sql`select 1 where false`, parse: (value) => value ?? "no row" },
    });
    // Two statements would start at two moments.
    expect(read.first).toBe(read.second);
    expect(read).toMatchObject({ count: 3, none: "no row" });
  });
});

describe("Outbox.add", () => {
  const rowsWith = async (body: string) =>
    Database.use().execute<{ published: boolean }>(
      sql`select published_at is not null as published from outbox where body = ${body}`,
    );

  it("publishes what it wrote once its transaction commits, and nothing that rolled back", async () => {
    const published = `{"deliveryIds":["${randomUUID()}"]}`;
    await Database.transaction(async () => {
      await Outbox.add([{ topic: "email", body: published }]);
      expect(await rowsWith(published)).toEqual([{ published: false }]);
    });
    // Published by the transaction's effect, before it returned.
    expect(await rowsWith(published)).toEqual([{ published: true }]);

    const rolledBack = `{"deliveryIds":["${randomUUID()}"]}`;
    await expect(
      Database.transaction(async () => {
        await Outbox.add([{ topic: "email", body: rolledBack }]);
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(await rowsWith(rolledBack)).toEqual([]);

    // Outside a transaction it opens its own.
    const alone = `{"deliveryIds":["${randomUUID()}"]}`;
    await Outbox.add([{ topic: "email", body: alone }]);
    expect(await rowsWith(alone)).toEqual([{ published: true }]);
  });

  it("publishes what concurrent transactions commit meanwhile in one call", async () => {
    const calls: string[][] = [];
    const bodies = Array.from({ length: 6 }, () => `{"deliveryIds":["${randomUUID()}"]}`);
    Outbox.configure({
      async publish(_topic, published) {
        calls.push(published);
        // The first publish lasts until every row has committed, however loaded the machine.
        for (let written = 0; calls.length === 1 && written < bodies.length; ) {
          await new Promise((done) => setTimeout(done, 20));
          written = (await Promise.all(bodies.map(rowsWith))).flat().length;
        }
      },
    });
    try {
      await Promise.all(bodies.map((body) => Outbox.add([{ topic: "email", body }])));
      expect(calls.flat().sort()).toEqual([...bodies].sort());
      // The first publish starts alone; what commits while it runs goes out with the next one.
      expect(calls.length).toBeLessThanOrEqual(2);
      for (const body of bodies) expect(await rowsWith(body)).toEqual([{ published: true }]);
    } finally {
      Outbox.configure(snsPublisher(new SNSClient(stack.aws), pipelines.topics));
    }
  });
});
