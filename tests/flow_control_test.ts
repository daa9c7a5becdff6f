// Flow control through Queue and Worker on a FakeClock (flow_control_contract.ts),
// on MemoryStorage.
import { MemoryStorage } from "../adapters/memory/mod.ts";
import { flowControlContract } from "./flow_control_contract.ts";

flowControlContract(
  "MemoryStorage",
  (clock) =>
    Promise.resolve({ storage: new MemoryStorage({ clock }), cleanup: () => Promise.resolve() }),
);
