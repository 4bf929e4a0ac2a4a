// runlocal.test.mjs: tools/run-local's command line and its Ctrl-C path, and
// the options tools/devnet-config gained for it.
//   - usage errors exit 2 with nothing on standard output;
//   - SIGINT to tools/run-local (what Ctrl-C on a terminal sends it) while
//     the scripted scenario runs, and again once the days go on after it:
//     exit status 0, and every process it started (PostgreSQL, anvil,
//     runwayd, the scenario and anything else naming its state directory) is
//     gone; runwayd stopped on SIGTERM ("stopped" last in its log).
// The scenario itself, checked to the unit, is the e2e test `run-local`
// (tools/run-local --once --no-setup).
// Usage: RUNWAY_BIN_DIR=build/src RUNWAY_STATE_DIR=DIR node --test tests/cli/runlocal.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const bin = process.env.RUNWAY_BIN_DIR;
const stateBase = process.env.RUNWAY_STATE_DIR;
assert.ok(bin && stateBase, 'RUNWAY_BIN_DIR and RUNWAY_STATE_DIR must be set');
const runLocal = path.join(root, 'tools', 'run-local');
const devnetConfig = path.join(root, 'tools', 'devnet-config');
const sample = path.join(root, 'tests', 'engine', 'data', 'devnet.json');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000, env: { ...process.env, RUNWAY_BIN_DIR: bin } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('run-local: usage errors exit 2 and print nothing on standard output', () => {
  for (const [args, msg] of [
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--day-seconds'], /--day-seconds needs a value/],
    [['--day-seconds', 'fast'], /--day-seconds wants a number of seconds from 1 to 3600, not 'fast'/],
    [['--day-seconds', '-1'], /not '-1'/],
    [['--day-seconds', '0.5'], /not '0.5'/],
    [['--day-seconds', '3601'], /not '3601'/],
  ]) {
    const r = run(runLocal, ['--no-setup', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '');
    assert.match(r.err, msg);
  }
  const h = run(runLocal, ['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /--day-seconds N/);
  assert.match(h.out, /Ctrl-C/);
});

test('devnet-config: a relayer and the poll interval; errors exit 2', () => {
  let r = run(devnetConfig, ['--devnet', sample, '--relayer-keystore', 'k.json', '--relayer-passphrase-file', 'p.txt',
    '--poll-interval-ms', '250']);
  assert.equal(r.code, 0, r.err);
  const ch = JSON.parse(r.out).chains[0];
  assert.deepEqual(ch.relayer, { keystore: path.resolve('k.json'), passphrase_file: path.resolve('p.txt') });
  assert.equal(ch.poll_interval_ms, 250);
  r = run(devnetConfig, ['--devnet', sample]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out).chains[0].relayer, { keystore: '' });
  assert.equal(JSON.parse(r.out).chains[0].poll_interval_ms, undefined);
  for (const [args, msg] of [
    [['--relayer-keystore', 'k.json'], /--relayer-keystore and --relayer-passphrase-file go together/],
    [['--relayer-passphrase-file', 'p'], /go together/],
    [['--poll-interval-ms', '99'], /--poll-interval-ms wants a whole number from 100 to 3600000, not '99'/],
    [['--poll-interval-ms', '1e3'], /not '1e3'/],
    [['--poll-interval-ms'], /--poll-interval-ms needs a value/],
  ]) {
    r = run(devnetConfig, ['--devnet', sample, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '');
    assert.match(r.err, msg);
  }
});

/** True while pid exists and is not a zombie. */
function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

/** PIDs of live processes whose command line names dir. */
function processesNaming(dir) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && alive(Number(p))) out.push(`${p}: ${cmd.slice(0, 200)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * Starts tools/run-local in state dir `tag`, sends SIGINT to it (and to it
 * only) once a line of its output matches `when`, and checks the stop.
 */
async function interrupt(tag, when, extraArgs) {
  const state = path.join(stateBase, tag);
  fs.mkdirSync(state, { recursive: true });
  const child = spawn(runLocal, ['--no-setup', ...extraArgs], {
    env: { ...process.env, RUNWAY_BIN_DIR: bin, RUNWAY_STATE_DIR: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const seen = new Promise((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += b.toString();
      if (when.test(out)) resolve();
    });
    child.stderr.on('data', (b) => {
      err += b.toString();
    });
    exited.then((e) => reject(new Error(`run-local exited (${JSON.stringify(e)}) before ${when}:\n${out}\n${err}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300000);
  const pids = {};
  try {
    await seen;
    for (const [name, re] of [['database', /^run-local: database .*\(pid (\d+)\)$/m],
      ['chain', /^run-local: chain .*\(pid (\d+)\)$/m], ['runwayd', /^run-local: runwayd +pid (\d+)/m],
      ['scenario', /^run-local: scenario +pid (\d+)/m]]) {
      const m = re.exec(out);
      assert.ok(m, `run-local names the ${name}'s pid:\n${out}`);
      pids[name] = Number(m[1]);
      assert.ok(alive(pids[name]), `${name} (pid ${pids[name]}) runs before the SIGINT`);
    }
    child.kill('SIGINT');
    const e = await exited;
    assert.deepEqual(e, { code: 0, signal: null }, `run-local stops with status 0 on SIGINT:\n${err.slice(-3000)}`);
    for (const [name, pid] of Object.entries(pids)) assert.ok(!alive(pid), `${name} (pid ${pid}) is gone`);
    assert.deepEqual(processesNaming(state), [], 'nothing naming the state directory runs');
    assert.match(err, /run-local: stopped runwayd, the chain and the database/);
    const log = fs.readFileSync(path.join(state, 'runwayd.log'), 'utf8').trimEnd().split('\n');
    assert.ok(log.some((l) => /SIGTERM: stopping/.test(l)), 'runwayd was stopped with SIGTERM');
    assert.ok(!log.some((l) => /SIGINT/.test(l)), 'the SIGINT reached run-local only');
    assert.match(log.at(-1), / stopped$/);
    return out;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    // After a failure: what run-local left behind must not outlive the test
    // (nor hold its output pipe open): runwayd and the scenario by PID, the
    // chain and the database through their tools.
    child.stdout.destroy();
    child.stderr.destroy();
    for (const name of ['runwayd', 'scenario']) {
      if (pids[name] && alive(pids[name])) process.kill(pids[name], 'SIGKILL');
    }
    spawnSync(path.join(root, 'tools', 'devnet'), ['down', '--state-dir', state]);
    spawnSync(path.join(root, 'tools', 'pg'), ['down', '--dir', path.join(state, 'pg')]);
  }
}

test('SIGINT while the scenario runs: everything it started is stopped, exit 0', async () => {
  await interrupt('sigint-scenario', /^day 1: /m, ['--day-seconds', '1']);
});

test('SIGINT once the days go on after the scenario: everything it started is stopped, exit 0', async () => {
  const out = await interrupt('sigint-after', /^---- day 6 /m, ['--day-seconds', '1']);
  assert.match(out, /^scenario: done in 5 days/m);
});
