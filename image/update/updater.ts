// The update cycle on the box. At start it settles any trial: on the trial boot itself it waits
// for the slot to be healthy (commit) or for the deadline (record the failure, reboot into the
// committed slot); back on the committed slot after a failed trial it records that. Then, every
// poll interval, it asks control for the site's target version and, inside the fill window,
// downloads and verifies the bundle, writes the inactive slot, drains the daemon and reboots once
// into the new slot.

import { readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  applianceImagePath, applianceImageStatusPath, fillWindowState, ImageTargetReply,
  type ImageStatus, type ImageTarget,
} from '../../protocol/index.ts';
import { otherSlot, type Slot, type SlotEntry } from './boot-entries.ts';
import { BundleError, downloadBundle, fetchManifest } from './download.ts';
import { armTrial, clearTrial, installKernel, trialMarker, writeBootFiles, writeImage } from './slot-writer.ts';
import { loadState, saveState, setStatus, type UpdateState } from './state.ts';
import { trialVerdict, type DaemonUnit } from './trial.ts';

export interface Credential { controlUrl: string; applianceId: string; credential: string }

export interface UpdaterEnv {
  slot: Slot;
  version: string;
  bootId: string;
  paths: { esp: string; state: string; downloads: string; turnupNow: string };
  keys: Record<string, string>;
  settings: { pollIntervalSec: number; healthDeadlineSec: number; failingGraceSec: number };
  credential(): Promise<Credential | null>;
  daemonHealth(): Promise<{ status: string; reasons: string[] } | null>;
  /** the daemon's systemd unit (asked only while its health check does not answer) */
  daemonUnit(): Promise<DaemonUnit | null>;
  /** the block device of a slot's root partition and its GPT partition UUID */
  slotDevice(slot: Slot): Promise<{ device: string; partuuid: string }>;
  stopDaemon(): Promise<void>;
  reboot(): Promise<void>;
  say(line: string): void;
  /** after each poll, with nothing in flight (the console status waits for this) */
  polled?(s: UpdateState): Promise<void>;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export class Updater {
  #e: UpdaterEnv;
  #s!: UpdateState;

  constructor(env: UpdaterEnv) {
    this.#e = env;
  }

  get state(): UpdateState { return this.#s; }

  async #save(): Promise<void> {
    await saveState(this.#e.paths.state, this.#s);
  }

  #status(state: ImageStatus['state'], targetVersion: string | null, reason: string | null = null): void {
    const e = this.#e;
    setStatus(this.#s, { state, currentVersion: e.version, slot: e.slot, targetVersion, reason, at: e.now() });
    e.say(`edgebox update: ${state}${targetVersion ? ` ${targetVersion}` : ''} (running ${e.version} on slot ${e.slot.toUpperCase()})${reason ? `: ${reason}` : ''}`);
  }

  async #call(cred: Credential, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const r = await fetch(new URL(path, cred.controlUrl), {
      method, signal: AbortSignal.timeout(10_000),
      headers: { authorization: `Bearer ${cred.credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
    return r.status === 204 ? null : r.json();
  }

  /** Send the pending status to control; true when control took it. */
  async flushStatus(): Promise<boolean> {
    if (!this.#s.status || this.#s.statusAcked) return true;
    const cred = await this.#e.credential();
    if (!cred) return false;
    try {
      await this.#call(cred, 'POST', applianceImageStatusPath(cred.applianceId), this.#s.status);
      this.#s.statusAcked = true;
      await this.#save();
      return true;
    } catch {
      return false;
    }
  }

  async #entries(newSlot?: { slot: Slot; version: string }): Promise<SlotEntry[]> {
    const out: SlotEntry[] = [];
    for (const slot of ['a', 'b'] as const) {
      const version = newSlot?.slot === slot ? newSlot.version : this.#s.slots[slot].version;
      if (version === null) continue;
      out.push({ slot, version, partuuid: (await this.#e.slotDevice(slot)).partuuid });
    }
    return out;
  }

  /** Start of every run: load the state and settle a trial, if one is in progress or just ended. */
  async settle(): Promise<'normal' | 'trial'> {
    const e = this.#e;
    this.#s = await loadState(e.paths.state, e.slot, e.version);
    const marker = await trialMarker(e.paths.esp);
    if (marker?.kind === 'trying' && marker.slot === e.slot) return 'trial';
    if (marker) {
      // back on the committed slot: the trial slot never reached a healthy report (it reset, hung,
      // or its own updater sent us back), or a trial was armed and this boot did not start it
      const tried = this.#s.trial ?? { slot: marker.slot, version: this.#s.slots[marker.slot].version ?? 'unknown' };
      const reason = this.#s.failed[tried.version]
        ?? `slot ${tried.slot.toUpperCase()} (${tried.version}) did not report healthy; booted back into slot ${e.slot.toUpperCase()}`;
      await clearTrial(e.paths.esp);
      await writeBootFiles(e.paths.esp, e.slot, e.slot, await this.#entries());
      this.#s.failed[tried.version] = reason;
      this.#s.trial = null;
      this.#s.committed = e.slot;
      this.#status('rolled-back', tried.version, reason);
      await this.#save();
    } else if (this.#s.trial) {
      this.#s.trial = null;
      await this.#save();
    }
    const last = this.#s.status;
    if (last?.state === 'rolled-back' && (last.slot !== e.slot || last.currentVersion !== e.version)) {
      // the trial boot decided and reported it; say it again from the slot the box came back to,
      // so control's record names the version the box now runs
      this.#status('rolled-back', last.targetVersion, last.reason);
      await this.#save();
    }
    if (this.#s.committed !== e.slot) {
      // booted a slot by hand from the boot menu: adopt it
      this.#s.committed = e.slot;
      this.#s.slots[e.slot].version = e.version;
      await this.#save();
    }
    return 'normal';
  }

  /** The trial boot: commit once healthy, or roll back at the deadline. */
  async runTrial(): Promise<void> {
    const e = this.#e;
    if (!this.#s.trial || this.#s.trial.slot !== e.slot) this.#s.trial = { slot: e.slot, version: e.version, bootId: null, startedAt: null };
    if (this.#s.trial.bootId !== e.bootId) {
      this.#s.trial.bootId = e.bootId;
      this.#s.trial.startedAt = e.now();
      this.#status('trying', e.version);
      await this.#save();
    }
    const deadline = this.#s.trial.startedAt! + e.settings.healthDeadlineSec * 1000;
    let lastWhy = '';
    let failingSince: number | null = null;
    for (;;) {
      const turnup = await readFile(e.paths.turnupNow, 'utf8').then((t) => (JSON.parse(t) as { passed: boolean }).passed).catch(() => null);
      const daemonHealth = await e.daemonHealth();
      // the 'trying' status reaching control is part of being healthy (and tells the operator)
      const now = e.now();
      failingSince = daemonHealth?.status === 'failing' ? failingSince ?? now : null;
      const facts = {
        now, deadline, turnupPassed: turnup, daemonHealth, controlReached: await this.flushStatus(),
        failingSince, failingGraceMs: e.settings.failingGraceSec * 1000,
        daemonUnit: daemonHealth ? null : await e.daemonUnit(),
      };
      const v = trialVerdict(facts);
      if (v.verdict === 'commit') {
        await writeBootFiles(e.paths.esp, e.slot, e.slot, await this.#entries());
        await clearTrial(e.paths.esp);
        this.#s.committed = e.slot;
        this.#s.slots[e.slot].version = e.version;
        this.#s.trial = null;
        this.#status('committed', e.version);
        await this.#save();
        await this.flushStatus();
        return;
      }
      if (v.verdict === 'rollback') {
        const back = otherSlot(e.slot);
        this.#s.failed[e.version] = v.reason;
        this.#s.trial = null;
        this.#s.committed = back;
        // the initramfs already made the committed slot the next boot; write it again to be sure
        await writeBootFiles(e.paths.esp, back, back, await this.#entries());
        await clearTrial(e.paths.esp);
        this.#status('rolled-back', e.version, v.reason);
        await this.#save();
        await this.flushStatus();
        e.say(`edgebox update: rebooting into slot ${back.toUpperCase()} (${this.#s.slots[back].version})`);
        await e.stopDaemon().catch(() => {});
        await e.reboot();
        return;
      }
      if (v.why !== lastWhy) e.say(`edgebox update: trying ${e.version}: waiting (${v.why}); deadline in ${Math.max(0, Math.round((deadline - facts.now) / 1000))} s`);
      lastWhy = v.why;
      await e.sleep(2_000);
    }
  }

  /** One poll of control; returns how long to wait before the next. */
  async pollOnce(): Promise<number> {
    const wait = await this.#poll();
    await this.#e.polled?.(this.#s);
    return wait;
  }

  async #poll(): Promise<number> {
    const e = this.#e;
    const poll = e.settings.pollIntervalSec * 1000;
    await this.flushStatus();
    const cred = await e.credential();
    if (!cred) return 5_000; // not enrolled yet: turn-up does that
    let reply: ImageTargetReply;
    try {
      const r = ImageTargetReply.safeParse(await this.#call(cred, 'GET', applianceImagePath(cred.applianceId)));
      if (!r.success) throw new Error(`reply does not match the protocol: ${r.error.issues[0].message}`);
      reply = r.data;
    } catch (err) {
      e.say(`edgebox update: cannot ask control for the target version: ${(err as Error).message}`);
      return poll;
    }
    const t = reply.target;
    const last = this.#s.status;
    if (!t || t.version === e.version) {
      if (last?.state !== 'idle' || last.targetVersion !== (t?.version ?? null)) {
        this.#status('idle', t?.version ?? null);
        await this.#save();
        await this.flushStatus();
      }
      return poll;
    }
    if (this.#s.failed[t.version]) return poll; // reported when it failed; wait for another target
    const w = fillWindowState(reply.fillWindow, e.now(), reply.fillNowUntil);
    if (!w.open) {
      if (last?.state !== 'waiting-window' || last.targetVersion !== t.version) {
        this.#status('waiting-window', t.version, `fill window opens at ${new Date(w.opensAt!).toISOString()}`);
        await this.#save();
        await this.flushStatus();
      }
      return Math.max(1_000, Math.min(poll, w.opensAt! - e.now()));
    }
    await this.#install(t);
    return poll;
  }

  async #install(t: ImageTarget): Promise<void> {
    const e = this.#e;
    const target = otherSlot(e.slot);
    this.#status('downloading', t.version);
    await this.#save();
    await this.flushStatus();
    const started = e.now();
    // this process's CPU for each step, beside the wall time: on a busy box (or under emulation)
    // the wall time says little about what the step itself cost
    const cpu0 = process.cpuUsage();
    const took = (since: number, c: NodeJS.CpuUsage) => {
      const u = process.cpuUsage(c);
      return `in ${((e.now() - since) / 1000).toFixed(0)} s (updater CPU ${((u.user + u.system) / 1e6).toFixed(1)} s, load ${loadavg()[0].toFixed(1)})`;
    };
    let wrote = '';
    let files: Record<string, string>;
    let rootfs: { bytes: number; sha256: string };
    try {
      const { manifest } = await fetchManifest(t.manifestUrl, e.keys, t.version);
      files = await downloadBundle(t.manifestUrl, manifest, join(e.paths.downloads, t.version));
      rootfs = manifest.rootfs;
      e.say(`edgebox update: ${t.version} downloaded and verified (sha256, Ed25519 signature) ${took(started, cpu0)}`);
      const dev = await e.slotDevice(target);
      const [writeStart, writeCpu] = [e.now(), process.cpuUsage()];
      await writeImage(files['rootfs.img.zst'], dev.device, rootfs);
      wrote = took(writeStart, writeCpu);
      await installKernel(e.paths.esp, target, files.vmlinuz, files['initrd.img']);
      await rm(e.paths.downloads, { recursive: true, force: true });
    } catch (err) {
      if (err instanceof BundleError && err.transient) {
        // the network or the bundle server, not the bundle: the next poll tries again (files
        // already downloaded and verified are kept)
        this.#status('failed', t.version, `download interrupted: ${err.message}; trying again at the next poll`);
        await this.#save();
        await this.flushStatus();
        return;
      }
      const reason = err instanceof BundleError ? `bundle refused: ${err.message}` : `could not install: ${(err as Error).message}`;
      this.#s.failed[t.version] = reason;
      this.#status('failed', t.version, reason);
      await this.#save();
      await this.flushStatus();
      return;
    }
    this.#s.slots[target].version = t.version;
    this.#s.trial = { slot: target, version: t.version, bootId: null, startedAt: null };
    await armTrial(e.paths.esp, target);
    await writeBootFiles(e.paths.esp, target, e.slot, await this.#entries({ slot: target, version: t.version }));
    this.#status('staged', t.version, `written to slot ${target.toUpperCase()} ${wrote}; draining and rebooting into it once`);
    await this.#save();
    await this.flushStatus();
    await e.stopDaemon();
    await e.reboot();
  }
}
