// Connection options pass through to ioredis: ACL user and password, database
// number, TLS (rediss://) with a private CA. Real redis-server processes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { defineTask, Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { freePort, startRedis } from "./_redis_server.ts";

const run = promisify(execFile);
const task = defineTask({ name: "ping", handler: () => "pong" });

describe("RedisStorage connection options", () => {
  test(
    "an ACL user with a password, and a database number, from the URL",
    { timeout: 20_000 },
    async () => {
      const server = await startRedis({
        args: ["--user", "app", "on", ">s3cret-pw", "~*", "&*", "+@all"],
      });
      const storage = new RedisStorage({ url: `redis://app:s3cret-pw@127.0.0.1:${server.port}/3` });
      const raw = new Redis(server.url);
      try {
        const queue = new Queue({ storage });
        await queue.enqueue(task, null, { id: "acl-1" });
        assert.equal((await queue.getJob("acl-1"))?.name, "ping");
        assert.equal(await raw.dbsize(), 0, "nothing in database 0");
        await raw.select(3);
        assert.ok((await raw.dbsize()) > 0, "the job is in database 3");
        const wrong = new RedisStorage({
          url: `redis://app:not-the-pw@127.0.0.1:${server.port}/3`,
        });
        const error = await new Queue({ storage: wrong }).counts().then(
          () => null,
          (e: Error) => e,
        );
        assert.ok(error, "a wrong password fails");
        assert.equal(error.name, "StorageError");
        assert.doesNotMatch(error.message + String((error.cause as Error)?.message), /not-the-pw/);
        assert.match(error.message, /redis:\/\/app:\*\*\*@127\.0\.0\.1/);
        await wrong.close();
      } finally {
        raw.disconnect();
        await storage.close();
        await server.stop();
      }
    },
  );

  test(
    "TLS: rediss:// with a private CA passed through redisOptions",
    { timeout: 30_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "taskmill-tls-"));
      const file = (name: string) => join(dir, name);
      const openssl = (...args: string[]) => run("openssl", args);
      await openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        file("ca.key"),
        "-out",
        file("ca.crt"),
      );
      await openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        file("server.key"),
        "-out",
        file("server.csr"),
      );
      await run("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1' > '${file("ext.cnf")}'`]);
      await openssl(
        "x509",
        "-req",
        "-in",
        file("server.csr"),
        "-CA",
        file("ca.crt"),
        "-CAkey",
        file("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        file("ext.cnf"),
        "-out",
        file("server.crt"),
      );
      const tlsPort = await freePort();
      const server = await startRedis({
        args: [
          "--tls-port",
          String(tlsPort),
          "--tls-cert-file",
          file("server.crt"),
          "--tls-key-file",
          file("server.key"),
          "--tls-ca-cert-file",
          file("ca.crt"),
          "--tls-auth-clients",
          "no",
        ],
      });
      const ca = await readFile(file("ca.crt"));
      const storage = new RedisStorage({
        url: `rediss://127.0.0.1:${tlsPort}`,
        redisOptions: { tls: { ca } },
      });
      const untrusted = new RedisStorage({ url: `rediss://127.0.0.1:${tlsPort}` });
      try {
        const queue = new Queue({ storage });
        const job = await queue.enqueue(task, { over: "tls" });
        assert.deepEqual((await queue.getJob(job.id))?.payload, { over: "tls" });
        await assert.rejects(new Queue({ storage: untrusted }).counts(), { name: "StorageError" });
      } finally {
        await untrusted.close();
        await storage.close();
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
