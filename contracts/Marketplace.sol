// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {ValidatorNodeProvider} from "./ValidatorNodeProvider.sol";

/// @title Marketplace
/// @notice Factory of ValidatorNodeProviders. Indexers discover providers from
/// its ValidatorNodeProviderCreated events.
contract Marketplace {
    /// @dev No parameter is indexed: all five are in the data, in this order.
    event ValidatorNodeProviderCreated(
        address provider, address consensus, address token, address payee, uint256 price
    );

    /// @notice Deploys a provider owned by the caller.
    function newValidatorNodeProvider(address consensus, IERC20 token, address payee, uint256 price)
        external
        returns (ValidatorNodeProvider provider)
    {
        provider = new ValidatorNodeProvider(consensus, token, payee, price, msg.sender);
        emit ValidatorNodeProviderCreated(address(provider), consensus, address(token), payee, price);
    }
}
