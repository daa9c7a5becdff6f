// sidequest's job for bench/sqlite_peers/run.mjs: a class in a module of its
// own, as sidequest finds a job's script by the class's file. It counts its
// runs (the engine runs inline, in the benchmark's process).
import { Job } from "sidequest";

export const ran = { count: 0 };

export class NoopJob extends Job {
  run(_payload) {
    ran.count++;
  }
}
