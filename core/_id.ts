// Job ids: time-sortable and unique across processes without coordination,
// like a MongoDB ObjectId. Layout (21 chars, base 36):
//   9 chars of ms time | 4 chars of a counter within that ms | 8 random chars
// The random part is drawn once per generator (and again if the counter ever
// wraps within one ms), so making an id costs no system call.

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const COUNTER_LIMIT = 36 ** 4;

/** Character codes of `text`. */
function codesOf(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

function randomTail(): number[] {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let tail = "";
  for (let i = 0; i < 8; i++) tail += ALPHABET[bytes[i] % 36];
  return codesOf(tail);
}

const DIGITS = codesOf(ALPHABET);

/** Returns a generator of ids that sort by creation time (to the ms), then creation order. */
export function createIdGenerator(): (now: number) => string {
  let lastTime = -1;
  let t: number[] = []; // codes of the 9 time chars
  let counter = 0;
  let r = randomTail(); // codes of the 8 random chars
  return (now) => {
    if (now !== lastTime) {
      lastTime = now;
      t = codesOf(Math.max(0, Math.floor(now)).toString(36).padStart(9, "0"));
      counter = 0;
    } else if (++counter >= COUNTER_LIMIT) {
      counter = 0;
      r = randomTail(); // 1.7 million ids in one ms: a fresh tail keeps them unique
    }
    // One call from character codes makes the id as one flat string: no
    // number-to-string or padding per id, and no rope (a cons string, as `+`
    // would make), which storage would hash and compare as a map key more
    // slowly, for every job.
    const c = counter;
    // deno-fmt-ignore
    return String.fromCharCode(
      t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8],
      DIGITS[(c / 46656) | 0], DIGITS[((c / 1296) | 0) % 36], DIGITS[((c / 36) | 0) % 36], DIGITS[c % 36],
      r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
    );
  };
}
