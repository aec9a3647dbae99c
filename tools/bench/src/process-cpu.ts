import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Client } from 'pg';

/**
 * CPU time of the processes a benchmark drives, read from /proc (Linux): user + system seconds,
 * so that a figure per event does not depend on how busy the shared machine was. Elsewhere the
 * readings are undefined and the bench prints "n/a".
 */
const TICKS_PER_SECOND = 100; // USER_HZ; the kernel reports /proc/<pid>/stat times in it on every Linux architecture we run on

interface ProcStat {
  ppid: number;
  cpuSeconds: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of one process, or undefined when it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : procStat(pid)?.cpuSeconds;
}

/** CPU seconds of a process and all its children (PostgreSQL: the postmaster, its backends and writers). */
export function processTreeCpuSeconds(rootPid: number | undefined): number | undefined {
  if (rootPid === undefined) return undefined;
  const root = procStat(rootPid);
  if (!root) return undefined;
  let total = root.cpuSeconds;
  for (const pid of pids()) {
    const stat = procStat(pid);
    if (stat?.ppid === rootPid) total += stat.cpuSeconds;
  }
  return total;
}

/** The process listening on a local TCP port (for the machine's nats-server), found through its socket inode. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(':')[1], 16);
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match && inodes.has(match[1])) return pid;
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return undefined;
}

/** The postmaster of the server behind `url`: the parent of a backend we open for the purpose. */
export async function postmasterPid(url: string | undefined): Promise<number | undefined> {
  if (!url) return undefined;
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return procStat(rows[0].pid)?.ppid;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A named set of CPU counters, read together. */
export type CpuCounters = Record<string, () => number | undefined>;

export function readCpu(counters: CpuCounters): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(counters).map(([name, read]) => [name, read()]));
}

/** Core-milliseconds per event for each counter between two readings. */
export function cpuPerEvent(before: Record<string, number | undefined>, after: Record<string, number | undefined>, events: number): Record<string, number | undefined> {
  return Object.fromEntries(
    Object.keys(after).map((name) => {
      const a = after[name];
      const b = before[name];
      return [name, a === undefined || b === undefined || events === 0 ? undefined : ((a - b) * 1000) / events];
    }),
  );
}

/** This process's CPU seconds (user + system). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
