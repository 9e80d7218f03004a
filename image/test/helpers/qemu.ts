// A VM under qemu (TCG: no KVM here) whose serial console the test reads line by line. The guest
// reaches the test's loopback servers only through guestfwd (restrict=on: nothing else leaves).
// Each line carries the wall time and qemu's CPU seconds so far: on a loaded machine wall time
// says little, the CPU a boot stage took is what compares between runs.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
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
  /** exit on a guest reboot instead of rebooting (the test then boots the next firmware) */
  noReboot?: boolean;
  log?: (line: string) => void;
  onLine?: (line: Line) => void;
}

export interface Line { at: number; cpu: number; text: string }

const CLK_TCK = 100;

/** user + system CPU seconds of a live process, 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(after[11]) + Number(after[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export class Vm {
  readonly lines: Line[] = [];
  readonly started = Date.now();
  readonly exited: Promise<number | null>;
  #proc: ChildProcess;
  #waiters: { re: RegExp; from: number; resolve: (l: Line) => void }[] = [];
  #lastCpu = 0;
  #buf = '';

  constructor(o: VmOptions) {
    const net = ['user', 'model=virtio-net-pci', 'restrict=on', 'net=10.0.2.0/24', 'host=10.0.2.2', 'ipv6-net=fd00:eb::/64', 'ipv6-host=fd00:eb::2',
      ...o.forwards.map((f) => `guestfwd=tcp:${f.guest}-cmd:socat STDIO TCP:127.0.0.1:${f.hostPort}`)].join(',');
    const args = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', String(o.memoryMiB ?? 2048),
      '-drive', `file=${o.disk},format=raw,if=virtio,cache=unsafe`, '-nic', net,
      '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-nodefaults', ...(o.noReboot ? ['-no-reboot'] : [])];
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
        const cpu = cpuSeconds(this.#proc.pid) || this.#lastCpu;
        this.#lastCpu = cpu;
        const line = { at: Date.now(), cpu, text };
        this.lines.push(line);
        o.onLine?.(line);
        o.log?.(`${((line.at - this.started) / 1000).toFixed(1).padStart(6)}s ${cpu.toFixed(1).padStart(6)}cpu ${text}`);
        const idx = this.lines.length - 1;
        this.#waiters = this.#waiters.filter((w) => {
          if (idx >= w.from && w.re.test(text)) { w.resolve(line); return false; }
          return true;
        });
      }
    };
    this.#proc.stdout!.on('data', onData);
    this.#proc.stderr!.on('data', (b: Buffer) => o.log?.(`qemu: ${b.toString().trim()}`));
    // keep the CPU figure fresh: /proc/<pid> is gone by the time 'exit' is seen
    const sample = setInterval(() => this.cpu(), 1_000);
    sample.unref();
    this.exited = new Promise((r) => this.#proc.on('exit', (code) => { clearInterval(sample); r(code); }));
  }

  /** The first serial line matching `re` at or after line index `from` (default: any). */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<Line> {
    const hit = this.lines.slice(from).find((l) => re.test(l.text));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no serial line matching ${re} within ${timeoutMs / 1000} s; last lines:\n${this.tail(40)}`)), timeoutMs);
      this.#waiters.push({ re, from, resolve: (l) => { clearTimeout(t); resolve(l); } });
      void this.exited.then(() => setTimeout(() => reject(new Error(`qemu exited before a line matching ${re}; last lines:\n${this.tail(40)}`)), 50));
    });
  }

  /** qemu's CPU seconds so far (the last value seen once it has exited) */
  cpu(): number {
    const c = cpuSeconds(this.#proc.pid);
    if (c > 0) this.#lastCpu = c;
    return this.#lastCpu;
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

export type Firmware = 'bios' | 'uefi';

export type MachineOptions = Omit<VmOptions, 'firmware' | 'noReboot' | 'onLine' | 'log'> & {
  firmwares: Firmware[];
  log?: (boot: number, firmware: Firmware, line: string) => void;
};

export interface Boot { firmware: Firmware; vm: Vm; firstLine: number; end?: 'reboot' | 'poweroff' | 'crash' }

/**
 * One box across its reboots. qemu runs with -no-reboot; when the guest reboots, the next boot
 * starts on the same disk with the next firmware of `firmwares` — so one run of the test boots
 * both UEFI and BIOS without a boot of its own for each. The console lines of every boot are one
 * list; `ended` resolves once the guest powers off (or a boot ends any other way).
 */
export class Machine {
  readonly lines: (Line & { boot: number })[] = [];
  readonly boots: Boot[] = [];
  readonly ended: Promise<Boot['end']>;
  #waiters: { re: RegExp; from: number; resolve: (l: Line) => void; reject: (e: Error) => void }[] = [];
  #end!: (e: Boot['end']) => void;
  #over = false;

  readonly o: MachineOptions;

  constructor(o: MachineOptions) {
    this.o = o;
    this.ended = new Promise((r) => { this.#end = r; });
    this.#boot();
  }

  #boot(): void {
    const n = this.boots.length;
    const firmware = this.o.firmwares[n];
    const vm = new Vm({
      ...this.o, firmware, noReboot: true,
      log: this.o.log ? (l) => this.o.log!(n + 1, firmware, l) : undefined,
      onLine: (line) => this.#line({ ...line, boot: n }),
    });
    const boot: Boot = { firmware, vm, firstLine: this.lines.length };
    this.boots.push(boot);
    void vm.exited.then(() => {
      const tail = vm.lines.slice(-15).map((l) => l.text).join('\n');
      boot.end = /reboot: Power down/.test(tail) ? 'poweroff' : /reboot: Restarting system/.test(tail) ? 'reboot' : 'crash';
      if (boot.end === 'reboot' && this.boots.length < this.o.firmwares.length && !this.#over) this.#boot();
      else this.#finish(boot.end);
    });
  }

  #line(line: Line & { boot: number }): void {
    this.lines.push(line);
    const idx = this.lines.length - 1;
    this.#waiters = this.#waiters.filter((w) => {
      if (idx >= w.from && w.re.test(line.text)) { w.resolve(line); return false; }
      return true;
    });
  }

  #finish(end: Boot['end']): void {
    this.#over = true;
    this.#end(end);
    setTimeout(() => {
      for (const w of this.#waiters) w.reject(new Error(`the box ended (${end}) before a line matching ${w.re}; last lines:\n${this.tail(40)}`));
      this.#waiters = [];
    }, 50);
  }

  /** The first console line matching `re` at or after line index `from`, in any boot. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<Line & { boot: number }> {
    const hit = this.lines.slice(from).find((l) => re.test(l.text));
    if (hit) return Promise.resolve(hit);
    if (this.#over) return Promise.reject(new Error(`the box has ended; no line matching ${re}; last lines:\n${this.tail(40)}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no serial line matching ${re} within ${timeoutMs / 1000} s; last lines:\n${this.tail(40)}`)), timeoutMs);
      this.#waiters.push({ re, from, resolve: (l) => { clearTimeout(t); resolve(l as Line & { boot: number }); }, reject: (e) => { clearTimeout(t); reject(e); } });
    });
  }

  /** qemu CPU seconds of every boot so far */
  cpu(): number {
    return this.boots.reduce((sum, b) => sum + b.vm.cpu(), 0);
  }

  tail(n: number): string {
    return this.lines.slice(-n).map((l) => `[boot ${l.boot + 1} ${this.boots[l.boot].firmware}] ${l.text}`).join('\n');
  }

  text(boot?: number): string {
    return this.lines.filter((l) => boot === undefined || l.boot === boot).map((l) => l.text).join('\n');
  }

  kill(): void {
    this.#over = true;
    for (const b of this.boots) b.vm.kill();
  }
}
