// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {TokenTransfer} from "./TokenTransfer.sol";
import {Application} from "./Application.sol";

/// @title ValidatorNodeProvider
/// @notice Prepaid runway for applications run by one node provider.
/// Anyone may extend any application's runway by paying `cost(seconds)` in
/// `token`; the payment goes straight to `payee`. The payer approves THIS
/// contract (it is the one calling transferFrom), not the payee.
///
/// `runway(app)` is an absolute unix time: the application is paid for until
/// then. Extending a lapsed runway starts from the current block time (the
/// gap is not charged); extending a live one adds to its end.
contract ValidatorNodeProvider {
    /// @notice The ERC-20 that runway is paid in.
    IERC20 public immutable token;
    /// @notice Who receives every payment.
    address public immutable payee;
    /// @notice Price in token base units per second of runway (no fixed point).
    uint256 public immutable price;
    /// @notice The consensus that applications deployed here answer to.
    address public immutable consensus;

    address public owner;
    bool public paused;

    /// @notice Paid-until unix timestamp per application (0: never paid).
    mapping(address => uint256) public runway;
    /// @notice Owner of each application deployed through `deploy` (0: not deployed here).
    mapping(address => address) public applicationOwner;

    event FinancialRunway(address indexed application, uint256 until);
    event MachineLocation(address indexed application, string location);
    event ApplicationDeployed(address indexed application, address indexed owner, bytes32 templateHash, bytes32 salt);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Paused(address account);
    event Unpaused(address account);

    error NotOwner(address caller);
    error NotAuthorized(address caller, address application);
    error EnforcedPause();
    error ExpectedPause();
    error ZeroAddress();
    error ApplicationExists(address application);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert EnforcedPause();
        _;
    }

    constructor(address consensus_, IERC20 token_, address payee_, uint256 price_, address owner_) {
        if (address(token_) == address(0) || payee_ == address(0) || owner_ == address(0)) revert ZeroAddress();
        consensus = consensus_;
        token = token_;
        payee = payee_;
        price = price_;
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    /// @notice Price of `_time` seconds of runway in token base units:
    /// exactly `_time * price`; reverts (panic 0x11) if that overflows.
    function cost(uint256 _time) public view returns (uint256) {
        return _time * price;
    }

    /// @notice Buys `_time` more seconds of runway for `_application`.
    /// Pulls `cost(_time)` from the caller to `payee`; the caller must have
    /// approved this contract for at least that amount.
    /// @return The new paid-until timestamp.
    function extendRunway(address _application, uint256 _time) external whenNotPaused returns (uint256) {
        return _extend(msg.sender, _application, _time);
    }

    /// @notice Registers a new application and optionally pre-funds it.
    /// The application is a small contract created with CREATE2, so its address
    /// is known in advance (see `calculateApplicationAddress`). With
    /// `_initialRunway` > 0 the caller pays `cost(_initialRunway)` as in
    /// `extendRunway`; 0 registers the application without running a node.
    function deploy(
        address _owner,
        bytes32 _templateHash,
        string calldata _location,
        uint256 _initialRunway,
        bytes32 _salt
    ) external whenNotPaused returns (address application) {
        if (_owner == address(0)) revert ZeroAddress();
        application = calculateApplicationAddress(_owner, _templateHash, _salt);
        if (application.code.length != 0) revert ApplicationExists(application);
        address created = address(new Application{salt: _salt}(_owner, _templateHash, consensus));
        assert(created == application);
        applicationOwner[application] = _owner;
        emit ApplicationDeployed(application, _owner, _templateHash, _salt);
        emit MachineLocation(application, _location);
        if (_initialRunway > 0) _extend(msg.sender, application, _initialRunway);
    }

    /// @notice Announces where an application's machine can be fetched.
    /// Callable by this provider's owner (for any application) and by the
    /// owner of an application deployed through this provider.
    function register(address _application, string calldata _location) external {
        if (_application == address(0)) revert ZeroAddress();
        address appOwner = applicationOwner[_application];
        if (msg.sender != owner && (appOwner == address(0) || msg.sender != appOwner)) {
            revert NotAuthorized(msg.sender, _application);
        }
        emit MachineLocation(_application, _location);
    }

    /// @notice The address `deploy` gives an application with these parameters.
    function calculateApplicationAddress(address _owner, bytes32 _templateHash, bytes32 _salt)
        public
        view
        returns (address)
    {
        bytes32 initHash =
            keccak256(abi.encodePacked(type(Application).creationCode, abi.encode(_owner, _templateHash, consensus)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), _salt, initHash)))));
    }

    function pause() external onlyOwner {
        if (paused) revert EnforcedPause();
        paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyOwner {
        if (!paused) revert ExpectedPause();
        paused = false;
        emit Unpaused(msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _extend(address payer, address application, uint256 time) private returns (uint256 until) {
        if (application == address(0)) revert ZeroAddress();
        uint256 amount = cost(time);
        uint256 current = runway[application];
        until = (current > block.timestamp ? current : block.timestamp) + time;
        runway[application] = until;
        emit FinancialRunway(application, until);
        TokenTransfer.pull(token, payer, payee, amount);
    }
}
