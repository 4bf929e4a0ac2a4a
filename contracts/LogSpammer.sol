// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title LogSpammer
/// @notice For benchmarks only (tools/bench-backfill): emits many ERC-20
/// `Transfer` events per transaction, so that a chain holds a million logs
/// after a few hundred transactions. It moves no tokens and keeps no
/// balances: an indexer told it is an ERC-20 token mirrors its events as
/// transfers, which is what a benchmark wants.
contract LogSpammer {
    event Transfer(address indexed from, address indexed to, uint256 value);

    /// @notice Total events emitted so far (every call adds `n`).
    uint256 public emitted;

    /// @notice Emits `n` Transfer events. Event `k` of the call (0-based) is
    /// `Transfer(address(seed + k), address(seed + k + 1), emitted + k + 1)`,
    /// so that senders, receivers and values differ from log to log.
    function spam(uint256 n, uint160 seed) external {
        uint256 base = emitted;
        for (uint256 k = 0; k < n; k++) {
            emit Transfer(address(seed + uint160(k)), address(seed + uint160(k) + 1), base + k + 1);
        }
        emitted = base + n;
    }
}
