/**
 * How a cache stores its values in Redis. `decode(encode(v))` must equal `v`; `decode` throws on
 * text it cannot read (the cache then treats the entry as a miss and loads the value again).
 */
export interface CacheCodec<V> {
  encode(value: V): string;
  decode(text: string): V;
}

/**
 * A JSON codec, for values that survive `JSON.stringify` unchanged: plain objects, arrays,
 * strings, finite numbers, booleans and null. Dates, Maps, `undefined` and class instances do
 * not round-trip; give those an explicit codec (see the memory service's) instead.
 */
export function jsonCodec<V>(): CacheCodec<V> {
  return {
    encode: (value) => JSON.stringify(value),
    decode: (text) => JSON.parse(text) as V,
  };
}
