/** The session's receive queue against a plain array model, under random pushes, searches and takes. */
import fc from "npm:fast-check@4.10.2";
import { ByteQueue } from "../lib/webrepl/byte_queue.ts";
import { assertEquals } from "./helpers/assert.ts";

type Step =
  | { push: Uint8Array }
  | { take: number }
  | { drop: number }
  | { find: Uint8Array };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ push: fc.uint8Array({ maxLength: 3000 }).map((bytes) => bytes.map((byte) => byte & 3)) }),
  fc.record({ take: fc.nat(4000) }),
  fc.record({ drop: fc.nat(4000) }),
  fc.record({
    find: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => bytes.map((byte) => byte & 3)),
  }),
);

function modelIndexOf(model: number[], pattern: Uint8Array): number {
  outer: for (let i = 0; i + pattern.length <= model.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (model[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("byte queue: pushes, takes, drops and searches agree with an array, across growth and compaction", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const queue = new ByteQueue();
      let model: number[] = [];
      for (const s of steps) {
        if ("push" in s) {
          queue.push(s.push);
          model.push(...s.push);
        } else if ("take" in s) {
          const count = Math.min(s.take, model.length);
          assertEquals([...queue.take(count)], model.slice(0, count));
          model = model.slice(count);
        } else if ("drop" in s) {
          queue.drop(s.drop);
          model = model.slice(Math.min(s.drop, model.length));
        } else {
          assertEquals(queue.indexOfBytes(s.find), modelIndexOf(model, s.find));
          assertEquals(queue.indexOf(s.find[0]), model.indexOf(s.find[0]));
          assertEquals(
            queue.agreesWith(s.find),
            s.find.every((byte, i) => i >= model.length || model[i] === byte),
          );
        }
        assertEquals(queue.length, model.length);
      }
      assertEquals([...queue.peek(queue.length)], model);
    }),
    { numRuns: 300 },
  );
});
