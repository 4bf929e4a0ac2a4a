// tools/lib/anvil.mjs: start, probe and stop a local anvil (the pinned one in
// node_modules). Shared by tools/devnet and tests/contracts.
//
// Processes are only ever stopped by the PID this code started, after checking
// that the PID still belongs to an anvil.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The mnemonic every anvil here uses: the well-known, public test mnemonic. */
export const TEST_MNEMONIC = 'test test test test test test test test test test test junk';
export const CHAIN_ID = 31337;
export const HOST = '127.0.0.1';

export class DevnetError extends Error {}

/** Path of the anvil binary: $RUNWAY_ANVIL, else the pinned one in node_modules. */
export function anvilBinary() {
  const bin = process.env.RUNWAY_ANVIL || path.join(repoRoot, 'node_modules', '.bin', 'anvil');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new DevnetError(`anvil not installed (no executable ${bin}): run tools/setup`);
  }
  return bin;
}

/** Resolves true when nothing listens on HOST:port. */
export function isPortFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

// --max-persisted-states 0: anvil otherwise moves old block states to
// ~/.foundry/anvil/tmp and removes them only on a clean exit; a killed anvil
// (and tests kill them) leaves gigabytes behind. Nothing here reads state
// older than the in-memory window.
function anvilArgs(port, { accounts = 10, extra = [] } = {}) {
  return [
    '--host', HOST,
    '--port', String(port),
    '--chain-id', String(CHAIN_ID),
    '--mnemonic', TEST_MNEMONIC,
    '--accounts', String(accounts),
    '--balance', '10000',
    '--max-persisted-states', '0',
    ...extra,
  ];
}

const LISTEN_RE = /Listening on ([0-9.]+):(\d+)/;

/** One JSON-RPC call with plain fetch (no provider caching). */
export async function rpc(url, method, params = [], timeoutMs = 5000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.json();
  if (body.error) throw new DevnetError(`${method}: ${body.error.message}`);
  return body.result;
}

async function waitForRpc(url, isAlive, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive()) throw new DevnetError('anvil exited during start-up');
    try {
      const id = await rpc(url, 'eth_chainId', [], 1000);
      if (Number(id) === CHAIN_ID) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new DevnetError(`anvil did not answer on ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts an anvil owned by this process (for tests). Port 0 (default) lets
 * anvil pick a free port itself, so parallel test files never collide;
 * `accounts` test accounts are funded; `extra` flags go last.
 * Returns { pid, port, rpcUrl, stop() }.
 */
export async function startAnvil({ port = 0, timeoutMs = 20000, accounts = 10, extra = [] } = {}) {
  const bin = anvilBinary();
  const child = spawn(bin, anvilArgs(port, { accounts, extra }), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const listening = new Promise((resolve, reject) => {
    const onData = (buf) => {
      // Keep draining the pipe for the whole life of anvil; remember only the start.
      if (out.length < 65536) out += buf.toString();
      const m = LISTEN_RE.exec(out);
      if (m) resolve(Number(m[2]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => reject(new DevnetError(`cannot start ${bin}: ${e.message}`)));
    child.once('exit', (code) =>
      reject(new DevnetError(`anvil exited (code ${code}) before listening:\n${out.slice(-2000)}`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DevnetError(`anvil did not start within ${timeoutMs} ms`)), timeoutMs);
  });
  let actualPort;
  try {
    actualPort = await Promise.race([listening, timeout]);
    const rpcUrl = `http://${HOST}:${actualPort}`;
    await waitForRpc(rpcUrl, () => !exited, timeoutMs);
  } catch (e) {
    if (!exited) child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const rpcUrl = `http://${HOST}:${actualPort}`;
  // If this process ends without stop() (a crash, a signal), take the anvil along.
  const onExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  const onSignal = (sig) => {
    onExit();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  child.once('exit', () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  return {
    pid: child.pid,
    port: actualPort,
    rpcUrl,
    /** Stops this anvil (SIGTERM, then SIGKILL after 5 s). */
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Starts anvil detached from this process (for tools/devnet), output to
 * `logFile`. Resolves { pid, port, rpcUrl } once it answers JSON-RPC.
 */
export async function startDetachedAnvil({ port, logFile, onPid, timeoutMs = 20000 }) {
  const bin = anvilBinary();
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(bin, anvilArgs(port), { stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  let exited = false;
  let exitCode = null;
  child.on('exit', (code) => {
    exited = true;
    exitCode = code;
  });
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new DevnetError(`cannot start ${bin}: ${e.message}`)));
  });
  if (onPid) onPid(child.pid);
  const deadline = Date.now() + timeoutMs;
  let actualPort = null;
  while (actualPort === null) {
    const log = fs.readFileSync(logFile, 'utf8');
    const m = LISTEN_RE.exec(log);
    if (m) actualPort = Number(m[2]);
    else if (exited) {
      const busy = /in use|AddrInUse|address already/i.test(log);
      throw new DevnetError(busy
        ? `port ${port} is busy (anvil: address already in use); pick another with --port`
        : `anvil exited (code ${exitCode}) during start-up; see ${logFile}:\n${log.slice(-2000)}`);
    } else if (Date.now() > deadline) {
      throw new DevnetError(`anvil did not start within ${timeoutMs} ms; see ${logFile}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  const rpcUrl = `http://${HOST}:${actualPort}`;
  await waitForRpc(rpcUrl, () => !exited, timeoutMs);
  child.unref();
  return { pid: child.pid, port: actualPort, rpcUrl };
}

/** True if `pid` is alive and is an anvil (optionally one listening on `port`). */
export function isAnvilPid(pid, port) {
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return false;
  let comm;
  let cmdline;
  try {
    comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  if (comm !== 'anvil' && path.basename(cmdline[0] || '') !== 'anvil') return false;
  if (port !== undefined && port !== null) {
    const i = cmdline.indexOf('--port');
    // Started with --port 0 the command line does not tell the port; accept it.
    if (i < 0 || (cmdline[i + 1] !== String(port) && cmdline[i + 1] !== '0')) return false;
  }
  return true;
}

/** True while `pid` exists and is not a zombie waiting to be reaped. */
function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Stops the anvil with this PID after checking it is one. Resolves true if it
 * was stopped, false if it was not running (or the PID is no longer anvil).
 */
export async function stopAnvilPid(pid, port) {
  if (!isAnvilPid(pid, port)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
