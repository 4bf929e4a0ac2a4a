// stress-db.mjs (by hand, not in the suite): restarts PostgreSQL under a
// running runwayd many times (a quick restart, or down for up to two
// seconds) and checks that the scheduler's cycles go on
// after each restart. Run: tests/pg/with-pg node tests/scheduler/stress-db.mjs
// (RUNWAY_BIN_DIR = build/src).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  createDatabase, devnetDown, devnetUp, makeKeystore, sleep, startRunwayd, stopRunwayd, tempDir, writeConfig,
} from '../indexer/helpers.mjs';

const state = tempDir('stress');
const dn = devnetUp(state);
let d;
try {
  const url = createDatabase('sched_stress');
  const keystore = makeKeystore(state, dn.accounts.consensus.private_key);
  const config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.relayer = { keystore, passphrase_env: 'RUNWAY_TEST_RELAYER_PASS' };
    ch.poll_interval_ms = 100;
  });
  const log = path.join(state, 'runwayd.log');
  d = startRunwayd(config, url, log, ['--verbose']);
  const cycles = () => (d.log().match(/\[local scheduler\] cycle done/g) || []).length;
  const rounds = Number(process.argv[2] || 20);
  for (const deadline = Date.now() + 30000; cycles() < 3;) {
    if (Date.now() > deadline) throw new Error(`runwayd did not start:\n${d.log()}`);
    await sleep(50);
  }
  let failedInFlight = 0;
  for (let i = 0; i < rounds; i++) {
    await sleep(Math.floor(Math.random() * 300));
    const ctl = (what) => {
      const r = spawnSync(process.env.RUNWAY_TEST_PG_HELPER, ['ctl', what], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    if (i % 2) {
      ctl('restart');
    } else {
      // an outage long enough for several failed connection attempts
      ctl('stop');
      await sleep(500 + Math.floor(Math.random() * 1500));
      ctl('start');
    }
    const before = cycles();
    const deadline = Date.now() + 20000;
    while (cycles() <= before + 2) {
      if (Date.now() > deadline) {
        console.log(d.log().split('\n').filter((l) => /scheduler|database/.test(l)).slice(-30).join('\n'));
        throw new Error(`round ${i}: no scheduler cycle within 20 s after the restart`);
      }
      await sleep(50);
    }
    failedInFlight = (d.log().match(/\[local scheduler\] cycle failed/g) || []).length;
  }
  console.log(`${rounds} restarts; cycles went on after each; ${failedInFlight} cycle(s) failed in flight`);
} finally {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  devnetDown(state);
  fs.rmSync(state, { recursive: true, force: true });
}
