/**
 * A stable stand-in for an object a `beforeAll` hook makes: module-level code can hold it, and every property
 * read, write or method call goes to the current object. Reading it before the hook ran throws.
 */
export function liveView<T extends object>(current: () => T | undefined, what: string): T {
  const target = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${what} is not there yet (use it inside tests and hooks)`);
    return value;
  };
  return new Proxy({} as T, {
    get(_stub, key) {
      const live = target();
      const value: unknown = Reflect.get(live, key, live);
      return typeof value === "function" ? value.bind(live) : value;
    },
    set(_stub, key, value) {
      return Reflect.set(target(), key, value);
    },
  });
}
