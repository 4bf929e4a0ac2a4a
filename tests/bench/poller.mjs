// poller.mjs: a benchmark's database polling on one psql process (settle.mjs,
// charges.mjs; not a test).
import { spawn } from 'node:child_process';

/**
 * One psql process for the polling, fed one query a line on its standard
 * input: a psql spawned every 10-20 ms (a process and a server backend each
 * time) would take a good part of a core from the relayer it watches (the
 * ceilings poll the node with fetch, which costs next to nothing).
 */
export class Poller {
  constructor(url) {
    this.child = spawn('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.buf = '';
    this.waiting = [];
    this.err = '';
    this.child.stdout.on('data', (b) => {
      this.buf += b.toString();
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w.resolve(line);
      }
    });
    this.child.stderr.on('data', (b) => { this.err += b.toString(); });
    this.exited = null;
    this.child.once('close', (code) => {
      this.exited = new Error(`psql exited ${code}: ${this.err}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  /** The answer of a one-row query: its one value, or its columns joined by |
   * (rejected at once when psql has exited). */
  value(query) {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(this.exited);
        return;
      }
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${query.replace(/\s+/g, ' ')};\n`);
    });
  }

  close() {
    this.child.stdin.end();
  }
}
