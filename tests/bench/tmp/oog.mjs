import { ethers, rpc, startAnvil } from '../../relayer/helpers.mjs';
import { connect, testWallets } from '../../../tools/lib/chain.mjs';
import { deployContract } from '../../../tools/lib/deploy.mjs';
const anvil = await startAnvil();
const provider = connect(anvil.url);
const wallets = testWallets(provider, 6);
const token = await deployContract(wallets[0], 'TestToken', ['Test USD', 'TUSD', 6]);
const iface = new ethers.Interface(['function mint(address to, uint256 amount)']);
const data = iface.encodeFunctionData('mint', ['0x' + '12'.repeat(20), 1]);
const call = { from: wallets[5].address, to: token.address, data };
console.log('estimate', await rpc(anvil.url, 'eth_estimateGas', [call, 'latest']));
for (const g of [30000, 45000]) {
  const r = await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ ...call, gas: '0x' + g.toString(16) }, 'latest'] }) });
  console.log(g, await r.text());
}
provider.destroy(); await anvil.stop();
