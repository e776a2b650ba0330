import { createManualClock } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { createInProcessTransport, type ReceivedMessage, type TransportMessage } from './index.js';

const message = (key: string, text: string): TransportMessage => ({ key, value: Buffer.from(text), headers: { h: text } });

describe('in-process transport', () => {
  it('resolves send only after every subscribed group has handled the messages, in order', async () => {
    const clock = createManualClock();
    const bus = createInProcessTransport({ clock });
    const seen: Record<string, string[]> = { a: [], b: [] };
    let releaseB!: () => void;
    const bMayFinish = new Promise<void>((resolve) => (releaseB = resolve));
    let aDone!: () => void;
    const aFinished = new Promise<void>((resolve) => (aDone = resolve));
    await bus.subscribe({
      groupId: 'a',
      topics: ['t'],
      handler: async (m) => {
        seen.a!.push(m.value.toString());
        if (seen.a!.length === 3) aDone();
      },
    });
    await bus.subscribe({
      groupId: 'b',
      topics: ['t'],
      handler: async (m) => {
        await bMayFinish;
        seen.b!.push(m.value.toString());
      },
    });

    let sent = false;
    const sending = bus.send('t', [message('k', '1'), message('k', '2'), message('j', '3')]).then(() => (sent = true));
    await aFinished;
    expect(seen.a).toEqual(['1', '2', '3']); // group a is not held back by group b
    expect(sent).toBe(false);
    releaseB();
    await sending;
    expect(seen.b).toEqual(['1', '2', '3']);
    await bus.close();
  });

  it('delivers topic, offsets, timestamp and a private copy of the headers', async () => {
    const clock = createManualClock(1_000);
    const bus = createInProcessTransport({ clock });
    const received: ReceivedMessage[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (m) => {
        m.headers.mutated = 'yes';
        received.push(m);
      },
    });
    await bus.subscribe({ groupId: 'other', topics: ['t'], handler: async (m) => expect(m.headers.mutated).toBeUndefined() });
    await bus.send('t', [message('k', 'x')]);
    await bus.send('t', [message('k', 'y')]);
    expect(received.map((m) => [m.topic, m.partition, m.offset, m.key, m.timestamp])).toEqual([
      ['t', 0, '0', 'k', 1_000],
      ['t', 0, '1', 'k', 1_000],
    ]);
    expect(received[0]?.headers.h).toBe('x');
  });

  it('rejects send when a handler fails, without delivering the rest of the batch to that group', async () => {
    const bus = createInProcessTransport();
    const seen: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (m) => {
        if (m.value.toString() === 'bad') throw new Error('handler exploded');
        seen.push(m.value.toString());
      },
    });
    await expect(bus.send('t', [message('k', 'ok'), message('k', 'bad'), message('k', 'after')])).rejects.toThrow(
      'handler exploded',
    );
    expect(seen).toEqual(['ok']);
    // The group keeps working for later sends.
    await bus.send('t', [message('k', 'next')]);
    expect(seen).toEqual(['ok', 'next']);
  });

  it('reports a group that stops before handling as a failed send', async () => {
    const bus = createInProcessTransport();
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const subscription = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        firstStarted();
        await firstHeld;
      },
    });
    const sending = bus.send('t', [message('k', '1'), message('k', '2')]);
    await started;
    const stopping = subscription.stop();
    releaseFirst();
    await stopping; // waited for the handler in flight
    await expect(sending).rejects.toThrow('consumer group g stopped before handling t@1');
  });

  it('does nothing for topics nobody subscribed to, and refuses work after close', async () => {
    const bus = createInProcessTransport();
    await bus.ensureTopics(['t']);
    await bus.send('t', [message('k', 'lost')]);
    await bus.close();
    await expect(bus.send('t', [message('k', 'x')])).rejects.toThrow('closed');
  });
});

describe('in-process transport durable groups', () => {
  it('holds a send until a declared group subscribes and handles it; undeclared groups are not waited for', async () => {
    const bus = createInProcessTransport({ durableGroups: { consciousness: ['jamey.memory.events.v1'] } });
    let sent = false;
    const sending = bus.send('jamey.memory.events.v1', [message('m', 'early')]).then(() => (sent = true));
    await bus.send('jamey.soul.events.v1', [message('s', 'nobody waits')]); // not declared for this topic
    expect(sent).toBe(false);

    const got: string[] = [];
    const subscription = await bus.subscribe({
      groupId: 'consciousness',
      topics: ['jamey.memory.events.v1'],
      handler: async (m) => void got.push(m.value.toString()),
    });
    await sending;
    expect(got).toEqual(['early']);

    // While it restarts, messages wait for it again instead of skipping it.
    await subscription.stop();
    const during = bus.send('jamey.memory.events.v1', [message('m', 'during restart')]);
    await bus.subscribe({ groupId: 'consciousness', topics: ['jamey.memory.events.v1'], handler: async (m) => void got.push(m.value.toString()) });
    await during;
    expect(got).toEqual(['early', 'during restart']);
  });

  it('fails a waiting send when the transport closes', async () => {
    const bus = createInProcessTransport({ durableGroups: { audit: ['t'] } });
    const waiting = bus.send('t', [message('k', 'x')]);
    await bus.close();
    await expect(waiting).rejects.toThrow('consumer group audit stopped before handling t@0');
  });
});
