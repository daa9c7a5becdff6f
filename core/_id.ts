// Job ids: time-sortable and unique across processes without coordination,
// like a MongoDB ObjectId. Layout (21 chars, base 36):
//   9 chars of ms time | 4 chars of a counter within that ms | 8 random chars
// The random part is drawn once per generator (and again if the counter ever
// wraps within one ms), so making an id costs no system call.

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const COUNTER_LIMIT = 36 ** 4;

function randomTail(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let tail = "";
  for (let i = 0; i < 8; i++) tail += ALPHABET[bytes[i] % 36];
  return tail;
}

/** Returns a generator of ids that sort by creation time (to the ms), then creation order. */
export function createIdGenerator(): (now: number) => string {
  let lastTime = -1;
  let timePart = "";
  let counter = 0;
  let tail = randomTail();
  return (now) => {
    if (now !== lastTime) {
      lastTime = now;
      timePart = Math.max(0, Math.floor(now)).toString(36).padStart(9, "0");
      counter = 0;
    } else if (++counter >= COUNTER_LIMIT) {
      counter = 0;
      tail = randomTail(); // 1.7 million ids in one ms: a fresh tail keeps them unique
    }
    // Joined, not concatenated with `+`: that would make a rope (a cons
    // string), which storage then hashes and compares as a map key more
    // slowly than a flat string, for every job.
    return [timePart, counter.toString(36).padStart(4, "0"), tail].join("");
  };
}
