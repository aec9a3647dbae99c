import { Writable } from 'node:stream';
import { HelpRequested, UsageError, parseCommandLine, runCommand } from './command-line';
import { createProgressBar } from './progress-bar';

describe('parseCommandLine', () => {
  const options = { file: 'string', 'dry-run': 'boolean' } as const;

  it('reads --name value, --name=value and flags', () => {
    expect(parseCommandLine(['--file', 'a.csv', '--dry-run'], options).values).toEqual(
      new Map([
        ['file', 'a.csv'],
        ['dry-run', 'true'],
      ]),
    );
    expect(parseCommandLine(['--file=b.csv'], options).values).toEqual(new Map([['file', 'b.csv']]));
  });

  it.each([
    [['--colour', 'red'], "Unknown option '--colour'"],
    [['--file'], "Option '--file <value>' argument missing"],
    [['stray'], "Unexpected argument 'stray'"],
  ])('refuses %j with one line: %s', (argv, message) => {
    expect(() => parseCommandLine(argv, options)).toThrow(new UsageError(message));
  });

  it('asks for help on --help and -h', () => {
    expect(() => parseCommandLine(['--help'], options)).toThrow(HelpRequested);
    expect(() => parseCommandLine(['--file', 'x', '-h'], options)).toThrow(HelpRequested);
  });
});

describe('runCommand', () => {
  const run = async (main: () => void) => {
    const out = { stdout: '', stderr: '' };
    const code = await runCommand('Usage: tool --file <f>', main, { io: { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t) } });
    return { code, ...out };
  };

  it('prints the usage on stdout and exits 0 after --help', async () => {
    expect(await run(() => parseCommandLine(['--help'], {}))).toEqual({ code: 0, stdout: 'Usage: tool --file <f>\n', stderr: '' });
  });

  it('exits 2 with one line after a usage mistake, 1 after any other error', async () => {
    expect(await run(() => parseCommandLine(['--nope'], {}))).toEqual({ code: 2, stdout: '', stderr: "Unknown option '--nope' (--help for usage)\n" });
    expect(
      await run(() => {
        throw new Error('disk full');
      }),
    ).toEqual({ code: 1, stdout: '', stderr: 'disk full\n' });
  });
});

describe('createProgressBar without a terminal', () => {
  it('writes a line per step and per 10 %, not per update', () => {
    let written = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
    const bar = createProgressBar(stream);
    for (let rows = 0; rows <= 1000; rows += 10) bar.update(`reading: ${rows} rows`, rows / 1000);
    bar.update('writing the report');
    bar.done();
    const lines = written.trim().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^0 % reading: 0 rows \(\d+\.\d s\)$/);
    expect(lines[10]).toMatch(/^100 % reading: 1000 rows/);
    expect(lines[11]).toMatch(/^writing the report/);
  });
});
