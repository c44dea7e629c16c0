/**
 * A channel is its module plus its entry in the app description: the registry, the domain's list
 * of channel names and the description must name the same channels, each module must export the
 * channel it is described as, and the delivering functions must hold every channel's access.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelDescriptions, functions, mergeAccess } from '../../../../lib/app-description.ts';
import { createChannels } from '../../../../shared/delivery/channels/index.ts';
import { channels } from '../../../../shared/domain/notification.ts';
import { FakeMailer, FakeSocketPoster, InMemoryLiveStateStore } from '../../fakes/index.ts';

const repositoryRoot = resolve(import.meta.dirname, '../../../..');

describe('the channel registry', () => {
  it('names the same channels as the domain and the app description', () => {
    // Act
    const registry = createChannels({ mailer: new FakeMailer(), sockets: new FakeSocketPoster(), live: new InMemoryLiveStateStore() });

    // Assess
    expect(Object.keys(registry).sort()).toEqual([...channels].sort());
    expect(channelDescriptions.map((c) => c.name).sort()).toEqual([...channels].sort());
    for (const [name, channel] of Object.entries(registry)) expect(channel.name).toBe(name);
  });

  it('finds each described channel in the module the description names', async () => {
    for (const description of channelDescriptions) {
      // Act
      const path = resolve(repositoryRoot, description.module);
      const exported = Object.values((await import(path)) as Record<string, unknown>).filter((value) => typeof value === 'function');

      // Assess
      expect(existsSync(path)).toBe(true);
      expect(exported.length).toBeGreaterThan(0);
    }
  });

  it('equips every function that runs the engine with every channel\'s grants and settings', () => {
    // Prepare
    const delivering = functions.filter((fn) => fn.name === 'deliver' || fn.name === 'broadcast-deliver');

    // Act + Assess
    expect(delivering).toHaveLength(2);
    for (const fn of delivering) {
      for (const channel of channelDescriptions) expect(mergeAccess(fn.access, channel.access)).toEqual(mergeAccess(fn.access, {}));
    }
  });
});

describe('mergeAccess', () => {
  it('keeps the wider table access, joins lists and ors switches', () => {
    // Act
    const merged = mergeAccess(
      { tables: { inbox: 'read', metrics: 'readWrite' }, sendsTo: ['delivery'], settings: ['retry'] },
      { tables: { inbox: 'readWrite', recipients: 'read' }, sendsTo: ['delivery', 'fanout'], sendsEmail: true, settings: ['delivery'] },
    );

    // Assess
    expect(merged).toEqual({
      tables: { inbox: 'readWrite', metrics: 'readWrite', recipients: 'read' },
      sendsTo: ['delivery', 'fanout'],
      settings: ['retry', 'delivery'],
      sendsEmail: true,
    });
  });
});
