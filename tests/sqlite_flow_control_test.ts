// Flow control through Queue and Worker on a FakeClock (flow_control_contract.ts),
// on SqliteStorage: a temp-dir file and :memory:.
import { after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import { flowControlContract } from "./flow_control_contract.ts";

const dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-flow-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

flowControlContract("SqliteStorage (file)", (clock) => {
  const storage = new SqliteStorage({ path: join(dir, `flow-${++files}.db`), clock });
  return Promise.resolve({ storage, cleanup: () => storage.close() });
});
flowControlContract("SqliteStorage (:memory:)", (clock) => {
  const storage = new SqliteStorage({ path: ":memory:", clock });
  return Promise.resolve({ storage, cleanup: () => storage.close() });
});
