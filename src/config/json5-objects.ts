/**
 * The objects json5.ts makes: how each is made (small, and plain in every way JavaScript can
 * tell) and how a member is defined on it (as json5 does, `__proto__` included).
 */

/**
 * What objects are made with: a plain object in every way JavaScript can tell (its prototype is
 * Object.prototype, so its constructor is Object, and it inspects as `{…}`), but half the size of
 * a `{}` literal when empty or small. V8 gives a literal room for four properties inside it (56
 * bytes on 64-bit Node); objects made by a constructor shrink to what the first few made with it
 * used (24 bytes), keeping their members in a separate array that grows as needed. A file of
 * `[{}, {}, …]` costs about 14× its size in heap instead of 24×.
 */
function PlainObject(this: Record<string, unknown>): void {}
PlainObject.prototype = Object.prototype;
export const newObject = (): Record<string, unknown> =>
  new (PlainObject as unknown as new () => Record<string, unknown>)();

/** Defines a member as json5 does: an own, plain data property, whatever its name (`__proto__` included). */
export function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else object[key] = value;
}
