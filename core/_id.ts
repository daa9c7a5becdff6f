// Job ids: time-sortable and unique across processes without coordination.
// Layout: 9 base-36 chars of ms time, 4 of a per-process counter, 8 random.

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Returns a generator of ids that sort by creation time (to the ms). */
export function createIdGenerator(): (now: number) => string {
  let lastTime = -1;
  let counter = 0;
  const random = new Uint8Array(8);
  return (now) => {
    if (now !== lastTime) {
      lastTime = now;
      counter = 0;
    } else if (++counter >= 36 ** 4) {
      counter = 0; // 1.6 million ids in one ms: the random part still keeps them unique
    }
    crypto.getRandomValues(random);
    let tail = "";
    for (let i = 0; i < 8; i++) tail += ALPHABET[random[i] % 36];
    return Math.max(0, Math.floor(now)).toString(36).padStart(9, "0") +
      counter.toString(36).padStart(4, "0") + tail;
  };
}
