// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";

/// @notice A token call failed without a revert reason of its own: it returned
/// false, returned something that is not a bool, or the token has no code.
error TokenTransferFailed(address token, address from, address to, uint256 amount);

/// @title TokenTransfer
/// @notice Moves ERC-20 tokens and insists that the move happened. Accepts
/// tokens that return nothing (older tokens) as well as tokens that return a
/// bool. A token that reverts with data has its revert data passed on as is,
/// so callers see the token's own reason (e.g. an allowance error).
library TokenTransfer {
    /// @dev token.transferFrom(from, to, amount); the calling contract is the spender.
    function pull(IERC20 token, address from, address to, uint256 amount) internal {
        _call(token, abi.encodeCall(IERC20.transferFrom, (from, to, amount)), from, to, amount);
    }

    /// @dev token.transfer(to, amount) from the calling contract's own holding.
    function push(IERC20 token, address to, uint256 amount) internal {
        _call(token, abi.encodeCall(IERC20.transfer, (to, amount)), address(this), to, amount);
    }

    function _call(IERC20 token, bytes memory data, address from, address to, uint256 amount) private {
        (bool ok, bytes memory ret) = address(token).call(data);
        if (!ok) {
            if (ret.length > 0) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
            revert TokenTransferFailed(address(token), from, to, amount);
        }
        if (ret.length == 0) {
            // A call to an address without code "succeeds" with no data.
            if (address(token).code.length == 0) revert TokenTransferFailed(address(token), from, to, amount);
        } else if (ret.length != 32 || abi.decode(ret, (uint256)) != 1) {
            revert TokenTransferFailed(address(token), from, to, amount);
        }
    }
}
