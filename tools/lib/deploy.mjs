// tools/lib/deploy.mjs: deploy runway's contracts from abi/*.json over
// JSON-RPC with ethers. Used by tools/devnet and tests/contracts.

import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, TEST_MNEMONIC, CHAIN_ID } from './anvil.mjs';
import { ethers, connect, testWallets } from './chain.mjs';

/** Roles of the anvil test accounts in a devnet, by mnemonic index. */
export const ROLES = [
  'deployer', // 0: owns every contract
  'operator', // 1: Balance operator (credits, refunds, instances)
  'treasury', // 2: receives deposit tax
  'payee_usdc', // 3: payee of ProviderUSDC
  'payee_token18', // 4: payee of ProviderToken18
  'user1', // 5
  'user2', // 6
  'user3', // 7
  'provider', // 8: a compute provider paid by Balance instances
  'consensus', // 9: stand-in consensus address given to the providers (an EOA)
];

/** Devnet parameters (base units). */
export const DEVNET = {
  usdcPricePerSecond: 10n, // 0.00001 USDC/s = 0.864 USDC/day
  token18PricePerSecond: 33052248677249n,
  minDeposit: 10_000_000n, // 10 USDC
  maxBalance: 5_000_000_000n, // 5000 USDC
  gracePeriod: 86400n, // 1 day
  fundUsdc: 10_000_000_000n, // 10000 USDC per funded account
  fundToken18: 1000n * 10n ** 18n, // 1000 tokens per funded account
  funded: ['deployer', 'operator', 'user1', 'user2', 'user3'],
};

const artifactCache = new Map();

/** abi/<name>.json, parsed. */
export function loadArtifact(name) {
  if (!artifactCache.has(name)) {
    const file = path.join(repoRoot, 'abi', `${name}.json`);
    if (!fs.existsSync(file)) throw new Error(`no artifact ${file}: run tools/compile-contracts`);
    artifactCache.set(name, JSON.parse(fs.readFileSync(file, 'utf8')));
  }
  return artifactCache.get(name);
}

/** An ethers Interface for a contract's ABI. */
export function iface(name) {
  return new ethers.Interface(loadArtifact(name).abi);
}

/** Contract object for an already deployed contract. */
export function attach(name, address, runner) {
  return new ethers.Contract(address, loadArtifact(name).abi, runner);
}

/**
 * Waits for the receipt of transaction `hash` by polling eth_getTransactionReceipt.
 * (ethers' tx.wait() can miss a block an automining anvil mined between its
 * first receipt check and its block subscription, and then waits forever.)
 */
export async function waitReceipt(provider, hash, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Deploys `name` with constructor `args` from `signer`.
 * Returns { contract, address, block, tx }.
 */
export async function deployContract(signer, name, args = []) {
  const art = loadArtifact(name);
  const factory = new ethers.ContractFactory(art.abi, art.bytecode, signer);
  const contract = await factory.deploy(...args);
  const receipt = await waitReceipt(signer.provider, contract.deploymentTransaction().hash);
  if (receipt.status !== 1) throw new Error(`deploying ${name} failed (tx ${receipt.hash})`);
  return { contract, address: await contract.getAddress(), block: receipt.blockNumber, tx: receipt.hash };
}

/** Sends a contract transaction and waits for a successful receipt. */
export async function send(txPromise) {
  const tx = await txPromise;
  const receipt = await waitReceipt(tx.provider, tx.hash);
  if (receipt.status !== 1) throw new Error(`transaction ${tx.hash} reverted`);
  return receipt;
}

/** Creates a provider through the Marketplace; returns { address, block, tx, event }. */
export async function newProvider(marketplace, consensus, token, payee, price) {
  const receipt = await send(marketplace.newValidatorNodeProvider(consensus, token, payee, price));
  const mi = marketplace.interface;
  for (const log of receipt.logs) {
    let parsed = null;
    try {
      parsed = mi.parseLog(log);
    } catch {
      /* not a Marketplace event */
    }
    if (parsed && parsed.name === 'ValidatorNodeProviderCreated') {
      return { address: parsed.args.provider, block: receipt.blockNumber, tx: receipt.hash, event: parsed };
    }
  }
  throw new Error('newValidatorNodeProvider emitted no ValidatorNodeProviderCreated');
}

/**
 * Deploys the whole devnet set on `rpcUrl` and funds the test accounts.
 * Returns the description written to devnet.json (without pid/paths).
 */
export async function deployDevnet(rpcUrl, log = () => {}) {
  const provider = connect(rpcUrl);
  const wallets = testWallets(provider, ROLES.length);
  const acct = Object.fromEntries(ROLES.map((r, i) => [r, wallets[i]]));
  const deployer = acct.deployer;
  const contracts = {};
  const blocks = {};
  const txs = {};
  const record = (name, d) => {
    contracts[name] = d.address;
    blocks[name] = d.block;
    txs[name] = d.tx;
    log(`deployed ${name} at ${d.address} (block ${d.block})`);
  };

  const usdc = await deployContract(deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  record('USDC', usdc);
  const tok18 = await deployContract(deployer, 'TestToken', ['Test Token 18', 'TT18', 18]);
  record('Token18', tok18);

  const market = await deployContract(deployer, 'Marketplace');
  record('Marketplace', market);
  const consensus = acct.consensus.address;
  const pUsdc = await newProvider(market.contract, consensus, usdc.address, acct.payee_usdc.address,
    DEVNET.usdcPricePerSecond);
  record('ProviderUSDC', pUsdc);
  const pTok18 = await newProvider(market.contract, consensus, tok18.address, acct.payee_token18.address,
    DEVNET.token18PricePerSecond);
  record('ProviderToken18', pTok18);

  const balance = await deployContract(deployer, 'Balance',
    [usdc.address, acct.treasury.address, DEVNET.minDeposit, DEVNET.maxBalance, DEVNET.gracePeriod]);
  record('Balance', balance);
  await send(balance.contract.setOperator(acct.operator.address, true));

  for (const role of DEVNET.funded) {
    await send(usdc.contract.mint(acct[role].address, DEVNET.fundUsdc));
    await send(tok18.contract.mint(acct[role].address, DEVNET.fundToken18));
  }
  log(`funded ${DEVNET.funded.join(', ')} with ${DEVNET.fundUsdc} USDC and ${DEVNET.fundToken18} Token18 base units`);

  const accounts = {};
  ROLES.forEach((role, i) => {
    accounts[role] = { index: i, address: wallets[i].address, private_key: wallets[i].privateKey, test_only: true };
  });
  provider.destroy();

  return {
    rpc_url: rpcUrl,
    chain_id: CHAIN_ID,
    test_only: true,
    warning: 'Well-known anvil test keys from a public mnemonic. Never use them on a real chain.',
    mnemonic: TEST_MNEMONIC,
    deployer: deployer.address,
    accounts,
    contracts,
    deploy_blocks: blocks,
    deploy_txs: txs,
    tokens: {
      USDC: { address: usdc.address, symbol: 'USDC', decimals: 6 },
      Token18: { address: tok18.address, symbol: 'TT18', decimals: 18 },
    },
    providers: {
      ProviderUSDC: {
        address: pUsdc.address, token: usdc.address, payee: acct.payee_usdc.address,
        price: DEVNET.usdcPricePerSecond.toString(), consensus, owner: deployer.address,
      },
      ProviderToken18: {
        address: pTok18.address, token: tok18.address, payee: acct.payee_token18.address,
        price: DEVNET.token18PricePerSecond.toString(), consensus, owner: deployer.address,
      },
    },
    balance: {
      address: balance.address,
      token: usdc.address,
      owner: deployer.address,
      operator: acct.operator.address,
      treasury: acct.treasury.address,
      min_deposit: DEVNET.minDeposit.toString(),
      max_balance: DEVNET.maxBalance.toString(),
      grace_period: DEVNET.gracePeriod.toString(),
    },
  };
}
