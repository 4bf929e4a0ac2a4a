// Published selectors and topics, checked against the committed artifacts.
// Needs no chain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot } from '../../tools/lib/anvil.mjs';
import { ethers, loadArtifact } from './helpers.mjs';

const require = createRequire(path.join(repoRoot, 'package.json'));

function fragmentSelector(art, sig) {
  const i = new ethers.Interface(art.abi);
  return i.getFunction(sig).selector;
}

function eventTopic(art, sig) {
  const i = new ethers.Interface(art.abi);
  return i.getEvent(sig).topicHash;
}

test('ValidatorNodeProvider selectors and topics equal the published ones', () => {
  const art = loadArtifact('ValidatorNodeProvider');
  assert.equal(fragmentSelector(art, 'extendRunway(address,uint256)'), '0x783d53ca');
  assert.equal(fragmentSelector(art, 'cost(uint256)'), '0x9097548d');
  assert.equal(art.methodIdentifiers['extendRunway(address,uint256)'], '0x783d53ca');
  assert.equal(art.methodIdentifiers['cost(uint256)'], '0x9097548d');

  const topic = ethers.keccak256(ethers.toUtf8Bytes('FinancialRunway(address,uint256)'));
  assert.ok(topic.startsWith('0x206c488a') && topic.endsWith('de35'), topic);
  assert.equal(topic, '0x206c488a3e590d91a82467a0072d112dfe901a99ae561b30c89ff2509fadde35');
  assert.equal(eventTopic(art, 'FinancialRunway(address,uint256)'), topic);
  assert.equal(art.eventTopics['FinancialRunway(address,uint256)'], topic);

  const i = new ethers.Interface(art.abi);
  const fr = i.getEvent('FinancialRunway');
  assert.deepEqual(fr.inputs.map((p) => [p.name, p.type, p.indexed]), [
    ['application', 'address', true],
    ['until', 'uint256', false],
  ]);
  const ml = i.getEvent('MachineLocation');
  assert.deepEqual(ml.inputs.map((p) => [p.name, p.type, p.indexed]), [
    ['application', 'address', true],
    ['location', 'string', false],
  ]);
  assert.equal(ml.topicHash, ethers.id('MachineLocation(address,string)'));
  // Function shapes the relayer and the CLI rely on.
  for (const sig of [
    'runway(address)', 'token()', 'payee()', 'price()', 'owner()', 'pause()', 'unpause()',
    'deploy(address,bytes32,string,uint256,bytes32)', 'register(address,string)',
  ]) assert.ok(i.getFunction(sig), sig);
  assert.deepEqual(i.getFunction('extendRunway').outputs.map((o) => o.type), ['uint256']);
  assert.deepEqual(i.getFunction('runway').outputs.map((o) => o.type), ['uint256']);
  assert.equal(i.getFunction('cost').stateMutability, 'view');
});

test('Marketplace event has five unindexed parameters in the published order', () => {
  const art = loadArtifact('Marketplace');
  const i = new ethers.Interface(art.abi);
  const ev = i.getEvent('ValidatorNodeProviderCreated');
  assert.equal(ev.format('sighash'), 'ValidatorNodeProviderCreated(address,address,address,address,uint256)');
  assert.deepEqual(ev.inputs.map((p) => [p.name, p.type, p.indexed]), [
    ['provider', 'address', false],
    ['consensus', 'address', false],
    ['token', 'address', false],
    ['payee', 'address', false],
    ['price', 'uint256', false],
  ]);
  assert.equal(ev.topicHash, ethers.id('ValidatorNodeProviderCreated(address,address,address,address,uint256)'));
  assert.equal(i.getFunction('newValidatorNodeProvider').format('sighash'),
    'newValidatorNodeProvider(address,address,address,uint256)');
});

test('Balance events carry the documented fields', () => {
  const art = loadArtifact('Balance');
  const i = new ethers.Interface(art.abi);
  const shape = (name) => i.getEvent(name).inputs.map((p) => `${p.indexed ? 'indexed ' : ''}${p.type} ${p.name}`);
  assert.deepEqual(shape('Deposited'), ['indexed address account', 'indexed address payer', 'uint256 amount',
    'uint256 tax', 'bytes32 ref', 'uint256 balanceAfter']);
  assert.deepEqual(shape('Credited'), ['indexed address account', 'indexed address operator', 'uint256 amount',
    'bytes32 ref', 'uint256 balanceAfter']);
  assert.deepEqual(shape('Refunded'), ['indexed address account', 'indexed address to', 'uint256 amount',
    'bytes32 ref', 'uint256 balanceAfter']);
  assert.deepEqual(shape('InstanceCreated'), ['indexed bytes32 id', 'indexed address account',
    'indexed address provider', 'uint256 pricePerDay', 'uint256 paid', 'uint256 reserve', 'uint256 paidUntil',
    'uint256 balanceAfter']);
  assert.deepEqual(shape('Charged'), ['indexed bytes32 id', 'indexed address account', 'indexed address provider',
    'uint256 period', 'uint256 amount', 'uint256 reserveAfter', 'uint256 paidUntil']);
  assert.deepEqual(shape('ReserveRefilled'), ['indexed bytes32 id', 'indexed address account', 'uint256 amount',
    'uint256 reserveAfter', 'uint256 balanceAfter']);
  assert.deepEqual(shape('SmallBalance'), ['indexed bytes32 id', 'indexed address account', 'uint256 reserve',
    'uint256 balanceAfter']);
  assert.deepEqual(shape('ChargeFailed'), ['indexed bytes32 id', 'indexed address account', 'uint256 period',
    'uint256 reserve', 'uint256 graceUntil']);
  assert.deepEqual(shape('InstanceEnded'), ['indexed bytes32 id', 'indexed address account', 'uint8 reason',
    'uint256 refunded', 'uint256 balanceAfter']);
  assert.deepEqual(shape('OperatorSet'), ['indexed address operator', 'bool enabled']);
  assert.deepEqual(shape('Paused'), ['address account']);
  assert.deepEqual(shape('Unpaused'), ['address account']);
  // The artifact's precomputed topics agree with keccak256 of the signatures.
  i.forEachEvent((ev) => assert.equal(art.eventTopics[ev.format('sighash')], ev.topicHash, ev.name));
  i.forEachFunction((f) => assert.equal(art.methodIdentifiers[f.format('sighash')], f.selector, f.name));
  i.forEachError((e) => assert.equal(art.errorSelectors[e.format('sighash')], e.selector, e.name));
});

test('artifacts are complete and built by the pinned solc', () => {
  const solcVersion = require('solc/package.json').version;
  for (const name of ['Application', 'Balance', 'Marketplace', 'TestToken', 'ValidatorNodeProvider']) {
    const art = loadArtifact(name);
    assert.equal(art.contractName, name);
    assert.ok(art.compiler.startsWith(`${solcVersion}+`), `${name}: compiler ${art.compiler}`);
    assert.equal(art.settings.evmVersion, 'cancun');
    assert.equal(art.settings.optimizer.enabled, true);
    assert.match(art.bytecode, /^0x([0-9a-f]{2})+$/);
    assert.match(art.deployedBytecode, /^0x([0-9a-f]{2})+$/);
    assert.ok(Array.isArray(art.abi) && art.abi.length > 0);
  }
  const tok = new ethers.Interface(loadArtifact('TestToken').abi);
  assert.equal(tok.getEvent('Transfer').topicHash, ethers.id('Transfer(address,address,uint256)'));
  assert.equal(tok.getFunction('transferFrom').selector, '0x23b872dd');
  assert.equal(tok.getFunction('approve').selector, '0x095ea7b3');
  assert.equal(tok.getFunction('mint').selector, ethers.id('mint(address,uint256)').slice(0, 10));
});
