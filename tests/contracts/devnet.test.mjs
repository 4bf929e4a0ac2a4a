// tools/devnet end to end: up (on a free port, in a temporary state dir),
// the JSON it writes, time travel, status, down.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, rpc, isAnvilPid, stopAnvilPid } from '../../tools/lib/anvil.mjs';
import { ethers, connect, attach } from './helpers.mjs';

const tool = path.join(repoRoot, 'tools', 'devnet');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runway-devnet-test-'));

function devnet(...args) {
  return new Promise((resolve) => {
    execFile(tool, [...args, '--state-dir', stateDir], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

after(async () => {
  // If a step failed midway, stop the anvil this test started (by its recorded PID).
  const pidFile = path.join(stateDir, 'anvil.pid');
  if (fs.existsSync(pidFile)) await stopAnvilPid(Number(fs.readFileSync(pidFile, 'utf8').trim()));
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test('devnet up / time / status / down', async () => {
  const help = await devnet('up', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: tools\/devnet up/);

  const notUp = await devnet('status');
  assert.equal(notUp.code, 1);

  const up = await devnet('up', '--port', '0');
  assert.equal(up.code, 0, up.stderr);
  const lines = up.stdout.trim().split('\n');
  const jsonPath = lines.at(-1);
  assert.equal(jsonPath, path.join(stateDir, 'devnet.json'), 'last stdout line is the JSON path');
  const d = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const pid = Number(fs.readFileSync(path.join(stateDir, 'anvil.pid'), 'utf8'));
  assert.equal(d.pid, pid);
  assert.ok(isAnvilPid(pid), 'the recorded PID is a running anvil');

  // The JSON file format.
  assert.equal(d.chain_id, 31337);
  assert.match(d.rpc_url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(d.test_only, true);
  assert.equal(d.deployer, d.accounts.deployer.address);
  for (const [role, a] of Object.entries(d.accounts)) {
    assert.equal(a.test_only, true, role);
    assert.equal(new ethers.Wallet(a.private_key).address, a.address, `${role} key matches its address`);
  }
  const names = ['USDC', 'Token18', 'Marketplace', 'ProviderUSDC', 'ProviderToken18', 'Balance'];
  assert.deepEqual(Object.keys(d.contracts).sort(), [...names].sort());
  const provider = connect(d.rpc_url);
  try {
    assert.equal(Number(await rpc(d.rpc_url, 'eth_chainId')), 31337);
    for (const n of names) {
      assert.ok((await provider.getCode(d.contracts[n])).length > 2, `${n} has code`);
      assert.ok(Number.isInteger(d.deploy_blocks[n]) && d.deploy_blocks[n] > 0, `${n} deploy block`);
      const r = await provider.getTransactionReceipt(d.deploy_txs[n]);
      assert.equal(r.blockNumber, d.deploy_blocks[n]);
    }
    const usdc = attach('TestToken', d.contracts.USDC, provider);
    assert.equal(await usdc.decimals(), 6n);
    assert.equal(await attach('TestToken', d.contracts.Token18, provider).decimals(), 18n);
    const p18 = attach('ValidatorNodeProvider', d.contracts.ProviderToken18, provider);
    assert.equal(await p18.price(), 33052248677249n);
    assert.equal(await p18.cost(604800n), 19990000000000195200n);
    const pu = attach('ValidatorNodeProvider', d.contracts.ProviderUSDC, provider);
    assert.equal(await pu.token(), d.contracts.USDC);
    assert.equal(String(await pu.price()), d.providers.ProviderUSDC.price);
    const bal = attach('Balance', d.contracts.Balance, provider);
    assert.equal(await bal.token(), d.contracts.USDC);
    assert.equal(await bal.operators(d.accounts.operator.address), true);
    assert.equal(await bal.treasury(), d.accounts.treasury.address);
    assert.equal(await bal.minDeposit(), 10_000_000n);
    assert.equal(await bal.maxBalance(), 5_000_000_000n);
    assert.equal(await usdc.balanceOf(d.accounts.user1.address), 10_000_000_000n);

    // A second 'up' on the same state dir refuses.
    const again = await devnet('up', '--port', '0');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already running/);

    // Time travel.
    const t0 = Number((await provider.getBlock('latest')).timestamp);
    const tt = await devnet('time', '--days', '1', '--seconds', '5');
    assert.equal(tt.code, 0, tt.stderr);
    const t1 = Number((await provider.getBlock('latest')).timestamp);
    assert.ok(t1 >= t0 + 86405 && t1 < t0 + 86405 + 60, `time moved from ${t0} to ${t1}`);

    const st = await devnet('status');
    assert.equal(st.code, 0);
    assert.match(st.stdout, new RegExp(`running: pid ${pid}`));
  } finally {
    provider.destroy();
  }

  const down = await devnet('down');
  assert.equal(down.code, 0, down.stderr);
  assert.ok(!isAnvilPid(pid), 'anvil is gone');
  assert.ok(!fs.existsSync(path.join(stateDir, 'anvil.pid')));
  assert.equal((await devnet('status')).code, 1);
  assert.equal((await devnet('down')).code, 0, 'down when not running is fine');
});
