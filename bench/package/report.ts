// The markdown beside bench/results/package.json.

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function renderMarkdown(r: any): string {
  const m = r.machine;
  const stages = Object.entries(r.stages as Record<string, { wallS: number; userS: number; sysS: number }>);
  const lines = [
    `# Package bench (${r.date})`,
    '',
    `\`${r.command}\` — Node ${m.node}, ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.ffmpeg.split(' Copyright')[0]}; load average ${f(m.loadavgBefore[0], 1)} → ${f(m.loadavgAfter[0], 1)}`,
    '',
    `Master: ${r.masterDurationS} s ${r.master.width}x${r.master.height}p${r.master.fps}${r.master.ffmpeg ? ' testsrc2' : ` ${r.master.path}`}, audio ${r.master.languages.join(' + ')}. ` +
      `**${f(r.wallS, 1)} s wall = ${f(r.realtimeMultiple, 2)}× real time**, CPU ${f(r.cpuS.user, 0)} s user + ${f(r.cpuS.sys, 0)} s system.`,
    '',
    '| stage | wall s | user s | sys s |',
    '|---|---:|---:|---:|',
    ...stages.map(([name, t]) => `| ${name} | ${f(t.wallS, 1)} | ${f(t.userS, 1)} | ${f(t.sysS, 1)} |`),
    '',
    `Ladder (${r.ladder.metric}, ${r.ladder.trials} trials): ${r.ladder.rungs.map((x: any) => `${x.rung} (${f(x.bitrate / 1000)} kb/s, VMAF ${f(x.vmaf, 1)})`).join(', ')}. QA ${r.qa.passed ? 'passed' : 'FAILED'}.`,
    '',
  ];
  const b = r.before;
  if (b) {
    lines.push(
      `Before (the packager of ${b.commit}, same master, same machine, ${b.recordedAt}; load ${f(b.loadavgBefore[0], 1)} → ${f(b.loadavgAfter[0], 1)}): ` +
        `${f(b.wallS, 1)} s wall = ${f(b.realtimeMultiple, 2)}× real time, CPU ${f(b.cpuS.user, 0)} s user + ${f(b.cpuS.sys, 0)} s system, ${b.trials} trials; rungs ${b.rungs.join(', ')}.`,
      '',
    );
  }
  const c = r.comparison;
  if (c) {
    lines.push(
      `Quality against today's ladder (baseline ${c.baselineCommit}): largest difference ${f(c.maxAbsDiff, 2)} VMAF — ${c.withinOnePoint ? 'within' : '**not** within'} 1 point.`,
      '',
      '| rung | kb/s | VMAF | today at that rate | kb/s | VMAF | new − today |',
      '|---|---:|---:|---|---:|---:|---:|',
      ...c.rows.map((x: any) => `| ${x.rung} | ${f(x.bitrateKbps)} | ${f(x.vmaf, 2)} | ${x.todayResolution}${x.sameEncode ? ' (same encode)' : ''} | ${f(x.todayBitrateKbps)} | ${f(x.todayVmaf, 2)} | ${f(x.diff, 2)} |`),
      '',
      'Today\'s own rungs, as its run measured them and as the current code re-encodes and re-measures them:',
      '',
      '| rung | kb/s | VMAF then | VMAF now | diff |',
      '|---|---:|---:|---:|---:|',
      ...c.reproduced.map((x: any) => `| ${x.rung} | ${f(x.bitrateKbps)} | ${f(x.vmafThen, 2)} | ${f(x.vmafNow, 2)} | ${f(x.diff, 2)} |`),
      '',
    );
  }
  lines.push(...r.notes.map((n: string) => `- ${n}`), '');
  return lines.join('\n');
}
