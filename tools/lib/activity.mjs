// tools/lib/activity.mjs: one round of billing activity on the devnet, for
// tools/run-local: a runway extension (approve the provider, extendRunway),
// a top-up of a Balance account, an instance, and one day of chain time.
// Usage: node tools/lib/activity.mjs DEVNET_JSON ROUND
import fs from 'node:fs';
import { ethers } from 'ethers';
import { loadArtifact } from './deploy.mjs';

const [file, roundArg] = process.argv.slice(2);
const dn = JSON.parse(fs.readFileSync(file, 'utf8'));
const round = Number(roundArg || 1);
const provider = new ethers.JsonRpcProvider(dn.rpc_url, undefined, { staticNetwork: true, polling: true, pollingInterval: 100 });
const wallet = (role) => new ethers.NonceManager(new ethers.Wallet(dn.accounts[role].private_key, provider));
const contract = (name, addr, signer) => new ethers.Contract(addr, loadArtifact(name).abi, signer);
const done = async (p) => (await (await p).wait()).hash;

const user = wallet(['user1', 'user2', 'user3'][(round - 1) % 3]);
const userAddr = await user.getAddress();
const usdc = contract('TestToken', dn.contracts.USDC, user);
const tok18 = contract('TestToken', dn.contracts.Token18, user);
const vnp = contract('ValidatorNodeProvider', dn.contracts.ProviderToken18, user);
const bal = contract('Balance', dn.contracts.Balance, user);

// An application's runway: a week on the 18-decimal provider.
const app = ethers.getAddress(ethers.dataSlice(ethers.id(`run-local app ${(round - 1) % 2}`), 12));
const week = 604800n;
const cost = await vnp.cost(week);
await done(tok18.approve(dn.contracts.ProviderToken18, cost));
await done(vnp.extendRunway(app, week));
console.error(`activity: ${userAddr} extended ${app} by 1w for ${ethers.formatUnits(cost, 18)} TT18`);

// A top-up of 25 USDC and, on the first rounds, an instance at 1 USDC a day.
const amount = 25_000_000n;
await done(usdc.approve(dn.contracts.Balance, amount));
await done(bal.deposit(userAddr, amount, 0n, ethers.id(`run-local session ${round}`)));
if (round <= 3) {
  const id = ethers.id(`run-local instance ${round}`);
  await done(bal.createInstance(id, userAddr, dn.accounts.provider.address, 1_000_000n));
  console.error(`activity: ${userAddr} topped up 25 USDC and started instance ${id.slice(0, 10)}...`);
}
// A day passes; anyone may charge the due instances.
await provider.send('evm_increaseTime', [86400]);
await provider.send('evm_mine', []);
const ids = [1, 2, 3].filter((i) => i <= round).map((i) => ethers.id(`run-local instance ${i}`));
await done(bal.charge(ids));
console.error(`activity: one day later, charged ${ids.length} instance(s)`);
provider.destroy();
