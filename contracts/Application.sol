// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title Application
/// @notice A minimal stand-in for an application registered with a
/// ValidatorNodeProvider. It only records who owns it, which machine template
/// it runs, the consensus it answers to and the provider that created it; its
/// address is what runways are kept for.
contract Application {
    address public immutable owner;
    bytes32 public immutable templateHash;
    address public immutable consensus;
    address public immutable provider;

    constructor(address owner_, bytes32 templateHash_, address consensus_) {
        owner = owner_;
        templateHash = templateHash_;
        consensus = consensus_;
        provider = msg.sender;
    }
}
