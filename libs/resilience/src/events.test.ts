import { describe, expect, it, vi } from 'vitest';
import { EventEmitter } from './events.js';

interface Events {
  OnThing: { n: number };
  OnOther: { s: string };
}

describe('EventEmitter', () => {
  it('calls listeners by name in order, and unsubscribes once', () => {
    const emitter = new EventEmitter<Events>();
    const seen: string[] = [];
    const off = emitter.on('OnThing', ({ n }) => seen.push(`a${n}`));
    emitter.on('OnThing', ({ n }) => seen.push(`b${n}`));
    emitter.on('OnOther', ({ s }) => seen.push(s));
    expect(emitter.has('OnThing')).toBe(true);
    expect(emitter.listenerCount('OnThing')).toBe(2);
    emitter.emit('OnThing', { n: 1 });
    off();
    off();
    emitter.emit('OnThing', { n: 2 });
    emitter.emit('OnOther', { s: 'x' });
    expect(seen).toEqual(['a1', 'b1', 'b2', 'x']);
    expect(emitter.listenerCount('OnThing')).toBe(1);
  });

  it('reports no listeners when none are left, so emitters skip building payloads', () => {
    const emitter = new EventEmitter<Events>();
    const listener = vi.fn();
    emitter.on('OnThing', listener);
    emitter.off('OnThing', listener);
    expect(emitter.has('OnThing')).toBe(false);
    emitter.emit('OnThing', { n: 1 });
    expect(listener).not.toHaveBeenCalled();
  });

  it('a listener subscribing during an emit is not called by that emit', () => {
    const emitter = new EventEmitter<Events>();
    const late = vi.fn();
    emitter.on('OnThing', () => {
      emitter.on('OnThing', late);
    });
    emitter.emit('OnThing', { n: 1 });
    expect(late).not.toHaveBeenCalled();
  });
});
