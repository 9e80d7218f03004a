// A VM under qemu (TCG: no KVM here) whose serial console the test reads line by line. The guest
// reaches the test's loopback servers only through guestfwd (restrict=on: nothing else leaves).

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const OVMF_CODE = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'];
export const OVMF_VARS = ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'];

export interface Forward { guest: string; hostPort: number }

export interface VmOptions {
  disk: string;
  firmware: 'bios' | 'uefi';
  /** guest address:port → host loopback port */
  forwards: Forward[];
  workDir: string;
  memoryMiB?: number;
  log?: (line: string) => void;
}

export class Vm {
  readonly lines: { at: number; text: string }[] = [];
  readonly started = Date.now();
  readonly exited: Promise<number | null>;
  #proc: ChildProcess;
  #waiters: { re: RegExp; from: number; resolve: (l: { at: number; text: string }) => void }[] = [];
  #buf = '';

  constructor(o: VmOptions) {
    const net = ['user', 'model=virtio-net-pci', 'restrict=on', 'net=10.0.2.0/24', 'host=10.0.2.2', 'ipv6-net=fd00:eb::/64', 'ipv6-host=fd00:eb::2',
      ...o.forwards.map((f) => `guestfwd=tcp:${f.guest}-cmd:socat STDIO TCP:127.0.0.1:${f.hostPort}`)].join(',');
    const args = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', String(o.memoryMiB ?? 2048),
      '-drive', `file=${o.disk},format=raw,if=virtio,cache=unsafe`, '-nic', net,
      '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-nodefaults'];
    if (o.firmware === 'uefi') {
      const code = OVMF_CODE.find(existsSync)!;
      const vars = join(o.workDir, 'OVMF_VARS.fd');
      copyFileSync(OVMF_VARS.find(existsSync)!, vars);
      args.push('-drive', `if=pflash,format=raw,readonly=on,file=${code}`, '-drive', `if=pflash,format=raw,file=${vars}`);
    }
    this.#proc = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer) => {
      this.#buf += b.toString('utf8');
      let i;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        // eslint-disable-next-line no-control-regex
        const text = this.#buf.slice(0, i).replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
        this.#buf = this.#buf.slice(i + 1);
        const line = { at: Date.now(), text };
        this.lines.push(line);
        o.log?.(text);
        const idx = this.lines.length - 1;
        this.#waiters = this.#waiters.filter((w) => {
          if (idx >= w.from && w.re.test(text)) { w.resolve(line); return false; }
          return true;
        });
      }
    };
    this.#proc.stdout!.on('data', onData);
    this.#proc.stderr!.on('data', (b: Buffer) => o.log?.(`qemu: ${b.toString().trim()}`));
    this.exited = new Promise((r) => this.#proc.on('exit', (code) => r(code)));
  }

  /** The first serial line matching `re` at or after line index `from` (default: any). */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<{ at: number; text: string }> {
    const hit = this.lines.slice(from).find((l) => re.test(l.text));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no serial line matching ${re} within ${timeoutMs / 1000} s; last lines:\n${this.tail(40)}`)), timeoutMs);
      this.#waiters.push({ re, from, resolve: (l) => { clearTimeout(t); resolve(l); } });
      void this.exited.then(() => setTimeout(() => reject(new Error(`qemu exited before a line matching ${re}; last lines:\n${this.tail(40)}`)), 50));
    });
  }

  tail(n: number): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  kill(): void {
    if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
  }
}
