// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {TokenTransfer} from "./TokenTransfer.sol";

/// @title Balance
/// @notice Prepaid account balances and daily billing of compute instances,
/// all in one ERC-20 (USDC: 6 decimals; every amount is in base units).
///
/// Money lives in two places inside this contract: an account's `balances`
/// entry (spendable, cannot be withdrawn by the account) and each running
/// instance's `reserve` (exactly one day, or nothing). The contract holds
/// exactly the sum of both: totalBalances + totalReserves ==
/// token.balanceOf(this) (more only if someone sends tokens to it directly).
///
/// Instances: creating one costs two days. Day 0 is paid to the provider at
/// once; the second day becomes the reserve. Period k (k >= 1) covers
/// [activation + k days, activation + (k+1) days); once it has begun
/// (block.timestamp >= paidUntil) `charge` pays it from the reserve and refills
/// the reserve from the balance. See abi/README.md for every rule.
///
/// Every state change emits an event carrying the resulting state.
contract Balance {
    using TokenTransfer for IERC20;

    /// @notice On-chain instance states. New and Launching exist only off-chain.
    enum Status {
        None, // 0: no such instance
        Active, // 1: running, reserve full
        SmallBalance, // 2: running, reserve could not be refilled
        Stopped, // 3: ended by the account (or the operator on its behalf)
        Terminated, // 4: ended by the provider (or the operator)
        InsufficientFunds // 5: ended by charge after the grace period
    }

    struct Instance {
        address account;
        Status status;
        uint64 failedAt; // block time of the first charge that could not be paid; 0 if none pending
        address provider;
        uint64 period; // last period paid (0 after creation)
        uint256 pricePerDay;
        uint256 reserve;
        uint256 paidUntil;
    }

    uint256 public constant DAY = 1 days;
    /// @notice A single charge call pays at most this many periods per instance;
    /// further missed periods are paid by the next call.
    uint256 public constant MAX_PERIODS_PER_CHARGE = 30;

    IERC20 public immutable token;
    /// @notice Smallest accepted deposit (`amount`, tax not included).
    uint256 public immutable minDeposit;
    /// @notice Largest balance a deposit or a credit may leave.
    uint256 public immutable maxBalance;
    /// @notice Seconds between a failed charge and the end of the instance.
    uint256 public immutable gracePeriod;

    address public owner;
    address public treasury;
    bool public paused;
    mapping(address => bool) public operators;

    mapping(address => uint256) public balances;
    mapping(bytes32 => Instance) public instances;
    uint256 public totalBalances;
    uint256 public totalReserves;

    uint256 private _lock = 1;

    // Account money.
    event Deposited(
        address indexed account, address indexed payer, uint256 amount, uint256 tax, bytes32 ref, uint256 balanceAfter
    );
    event Credited(address indexed account, address indexed operator, uint256 amount, bytes32 ref, uint256 balanceAfter);
    event Refunded(address indexed account, address indexed to, uint256 amount, bytes32 ref, uint256 balanceAfter);

    // Instances.
    event InstanceCreated(
        bytes32 indexed id,
        address indexed account,
        address indexed provider,
        uint256 pricePerDay,
        uint256 paid,
        uint256 reserve,
        uint256 paidUntil,
        uint256 balanceAfter
    );
    event Charged(
        bytes32 indexed id,
        address indexed account,
        address indexed provider,
        uint256 period,
        uint256 amount,
        uint256 reserveAfter,
        uint256 paidUntil
    );
    event ReserveRefilled(
        bytes32 indexed id, address indexed account, uint256 amount, uint256 reserveAfter, uint256 balanceAfter
    );
    event SmallBalance(bytes32 indexed id, address indexed account, uint256 reserve, uint256 balanceAfter);
    event ChargeFailed(bytes32 indexed id, address indexed account, uint256 period, uint256 reserve, uint256 graceUntil);
    event InstanceEnded(
        bytes32 indexed id, address indexed account, Status reason, uint256 refunded, uint256 balanceAfter
    );

    // Administration.
    event OperatorSet(address indexed operator, bool enabled);
    event TreasurySet(address indexed treasury);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Paused(address account);
    event Unpaused(address account);

    error NotOwner(address caller);
    error NotOperator(address caller);
    error NotAuthorized(address caller, bytes32 id);
    error EnforcedPause();
    error ExpectedPause();
    error Reentrancy();
    error ZeroAddress();
    error ZeroAmount();
    error InvalidLimits(uint256 minDeposit, uint256 maxBalance);
    error DepositTooSmall(uint256 amount, uint256 minimum);
    error BalanceCapExceeded(address account, uint256 balanceAfter, uint256 maximum);
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InvalidInstance(bytes32 id);
    error InstanceExists(bytes32 id);
    error InstanceNotLive(bytes32 id, Status status);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyOperator() {
        if (!operators[msg.sender]) revert NotOperator(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert EnforcedPause();
        _;
    }

    modifier nonReentrant() {
        if (_lock != 1) revert Reentrancy();
        _lock = 2;
        _;
        _lock = 1;
    }

    /// @param token_ the ERC-20 balances are kept in
    /// @param treasury_ receives the tax part of every deposit
    /// @param minDeposit_ smallest deposit, base units (10 USDC = 10_000_000)
    /// @param maxBalance_ balance cap, base units (5000 USDC = 5_000_000_000)
    /// @param gracePeriod_ seconds from a failed charge to InsufficientFunds
    constructor(IERC20 token_, address treasury_, uint256 minDeposit_, uint256 maxBalance_, uint256 gracePeriod_) {
        if (address(token_) == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (minDeposit_ == 0 || minDeposit_ > maxBalance_) revert InvalidLimits(minDeposit_, maxBalance_);
        token = token_;
        treasury = treasury_;
        minDeposit = minDeposit_;
        maxBalance = maxBalance_;
        gracePeriod = gracePeriod_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        emit TreasurySet(treasury_);
    }

    // ------------------------------------------------------------------
    // Account money
    // ------------------------------------------------------------------

    /// @notice Tops up `account` by `amount`; the caller pays `amount + tax`
    /// (approve this contract for the sum). `tax` goes straight to the
    /// treasury. `ref` is the off-chain payment-session id.
    function deposit(address account, uint256 amount, uint256 tax, bytes32 ref) external whenNotPaused nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        if (amount < minDeposit) revert DepositTooSmall(amount, minDeposit);
        uint256 balanceAfter = _addBalance(account, amount);
        emit Deposited(account, msg.sender, amount, tax, ref, balanceAfter);
        token.pull(msg.sender, address(this), amount);
        if (tax > 0) token.pull(msg.sender, treasury, tax);
    }

    /// @notice Operator: promotional or goodwill credit. The operator supplies
    /// the tokens (approve this contract), so every credited unit is backed.
    /// The balance cap applies; the minimum deposit does not.
    function credit(address account, uint256 amount, bytes32 ref) external onlyOperator whenNotPaused nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 balanceAfter = _addBalance(account, amount);
        emit Credited(account, msg.sender, amount, ref, balanceAfter);
        token.pull(msg.sender, address(this), amount);
    }

    /// @notice Operator: pays `amount` out of `account`'s balance to `to`
    /// (after an off-chain review). Works while paused.
    function refund(address account, address to, uint256 amount, bytes32 ref) external onlyOperator nonReentrant {
        if (account == address(0) || to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 held = balances[account];
        if (held < amount) revert InsufficientBalance(account, held, amount);
        uint256 balanceAfter = held - amount;
        balances[account] = balanceAfter;
        totalBalances -= amount;
        emit Refunded(account, to, amount, ref, balanceAfter);
        token.push(to, amount);
    }

    // ------------------------------------------------------------------
    // Instances
    // ------------------------------------------------------------------

    /// @notice Starts billing instance `id` for `account` at `pricePerDay`.
    /// Callable by an operator or by the account itself. Takes two days from
    /// the balance: one paid to `provider` now (period 0), one kept as reserve.
    /// Ids are never reused, not even after the instance ended.
    function createInstance(bytes32 id, address account, address provider, uint256 pricePerDay)
        external
        whenNotPaused
        nonReentrant
    {
        if (msg.sender != account && !operators[msg.sender]) revert NotAuthorized(msg.sender, id);
        if (id == bytes32(0)) revert InvalidInstance(id);
        if (account == address(0) || provider == address(0)) revert ZeroAddress();
        if (pricePerDay == 0) revert ZeroAmount();
        Instance storage it = instances[id];
        if (it.status != Status.None) revert InstanceExists(id);

        uint256 needed = 2 * pricePerDay;
        uint256 held = balances[account];
        if (held < needed) revert InsufficientBalance(account, held, needed);
        uint256 balanceAfter = held - needed;
        balances[account] = balanceAfter;
        totalBalances -= needed;
        totalReserves += pricePerDay;

        it.account = account;
        it.status = Status.Active;
        it.provider = provider;
        it.pricePerDay = pricePerDay;
        it.reserve = pricePerDay;
        it.paidUntil = block.timestamp + DAY;
        emit InstanceCreated(id, account, provider, pricePerDay, pricePerDay, pricePerDay, it.paidUntil, balanceAfter);
        token.push(provider, pricePerDay);
    }

    /// @notice Keeper entry point, open to anyone. For each id: retry the
    /// reserve refill if it is short, then pay every period that has begun (at
    /// most MAX_PERIODS_PER_CHARGE), refilling the reserve after each. Ids that
    /// are unknown, ended or not due are skipped; never reverts for one of
    /// them. Works while paused.
    /// @return periods the number of periods paid in this call
    function charge(bytes32[] calldata ids) external nonReentrant returns (uint256 periods) {
        for (uint256 i = 0; i < ids.length; i++) {
            periods += _settle(ids[i]);
        }
    }

    /// @notice Retries the reserve refill of each live instance whose reserve is
    /// short (SmallBalance). Open to anyone; skips everything else. Does not pay
    /// periods: `charge` does that (and refills first by itself).
    /// @return refilled how many reserves were refilled
    function refill(bytes32[] calldata ids) external nonReentrant returns (uint256 refilled) {
        for (uint256 i = 0; i < ids.length; i++) {
            Instance storage it = instances[ids[i]];
            if (_live(it.status) && it.reserve < it.pricePerDay && _tryRefill(ids[i], it)) refilled++;
        }
    }

    /// @notice Ends an instance at the account's request (the account itself,
    /// or an operator acting for it). Periods that have already begun are paid
    /// first; the remaining reserve goes back to the balance.
    function stopInstance(bytes32 id) external nonReentrant {
        Instance storage it = instances[id];
        if (msg.sender != it.account && !operators[msg.sender]) revert NotAuthorized(msg.sender, id);
        _endByRequest(id, it, Status.Stopped);
    }

    /// @notice Ends an instance on the provider's side (the instance's provider
    /// or an operator). Same settlement as stopInstance.
    function terminateInstance(bytes32 id) external nonReentrant {
        Instance storage it = instances[id];
        if (msg.sender != it.provider && !operators[msg.sender]) revert NotAuthorized(msg.sender, id);
        _endByRequest(id, it, Status.Terminated);
    }

    // ------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------

    function getInstance(bytes32 id) external view returns (Instance memory) {
        return instances[id];
    }

    /// @notice True when `charge` would try to pay a period of `id` now.
    function isDue(bytes32 id) external view returns (bool) {
        Instance storage it = instances[id];
        return _live(it.status) && block.timestamp >= it.paidUntil;
    }

    /// @notice When a failed instance will be ended (0: no failure pending).
    function graceUntil(bytes32 id) external view returns (uint256) {
        uint256 failedAt = instances[id].failedAt;
        return failedAt == 0 ? 0 : failedAt + gracePeriod;
    }

    // ------------------------------------------------------------------
    // Administration
    // ------------------------------------------------------------------

    function setOperator(address operator, bool enabled) external onlyOwner {
        if (operator == address(0)) revert ZeroAddress();
        operators[operator] = enabled;
        emit OperatorSet(operator, enabled);
    }

    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Refuses deposits, credits and new instances until unpause.
    /// Charging, refills, stop/terminate and refunds keep working so that
    /// running instances stay paid and money can always leave.
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

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    function _live(Status s) private pure returns (bool) {
        return s == Status.Active || s == Status.SmallBalance;
    }

    function _addBalance(address account, uint256 amount) private returns (uint256 balanceAfter) {
        balanceAfter = balances[account] + amount;
        if (balanceAfter > maxBalance) revert BalanceCapExceeded(account, balanceAfter, maxBalance);
        balances[account] = balanceAfter;
        totalBalances += amount;
    }

    /// @dev Pays due periods; returns how many were paid.
    function _settle(bytes32 id) private returns (uint256 paid) {
        Instance storage it = instances[id];
        if (!_live(it.status)) return 0;
        uint256 price = it.pricePerDay;
        if (it.reserve < price) _tryRefill(id, it);
        while (block.timestamp >= it.paidUntil && paid < MAX_PERIODS_PER_CHARGE) {
            if (it.reserve < price) {
                _failCharge(id, it);
                break;
            }
            it.reserve -= price;
            totalReserves -= price;
            it.paidUntil += DAY;
            it.period += 1;
            it.failedAt = 0;
            paid++;
            emit Charged(id, it.account, it.provider, it.period, price, it.reserve, it.paidUntil);
            token.push(it.provider, price);
            _tryRefill(id, it);
        }
    }

    /// @dev Tops the reserve up to one day, all or nothing. On failure the
    /// instance becomes SmallBalance (event only on the transition).
    function _tryRefill(bytes32 id, Instance storage it) private returns (bool) {
        uint256 price = it.pricePerDay;
        if (it.reserve >= price) return true;
        uint256 needed = price - it.reserve;
        address account = it.account;
        uint256 held = balances[account];
        if (held >= needed) {
            uint256 balanceAfter = held - needed;
            balances[account] = balanceAfter;
            totalBalances -= needed;
            totalReserves += needed;
            it.reserve = price;
            it.status = Status.Active;
            emit ReserveRefilled(id, account, needed, price, balanceAfter);
            return true;
        }
        if (it.status != Status.SmallBalance) {
            it.status = Status.SmallBalance;
            emit SmallBalance(id, account, it.reserve, held);
        }
        return false;
    }

    /// @dev A due period cannot be paid: record the first failure, and end
    /// the instance once the grace period since that failure has passed.
    function _failCharge(bytes32 id, Instance storage it) private {
        if (it.failedAt == 0) {
            it.failedAt = uint64(block.timestamp);
            emit ChargeFailed(id, it.account, uint256(it.period) + 1, it.reserve, block.timestamp + gracePeriod);
        }
        if (block.timestamp >= uint256(it.failedAt) + gracePeriod) _end(id, it, Status.InsufficientFunds);
    }

    function _endByRequest(bytes32 id, Instance storage it, Status reason) private {
        if (!_live(it.status)) revert InstanceNotLive(id, it.status);
        _settle(id);
        // Settling may already have ended it for lack of funds; that stands.
        if (_live(it.status)) _end(id, it, reason);
    }

    /// @dev Ends an instance and returns its reserve to the account's balance
    /// (not subject to the balance cap: it is the account's own money).
    function _end(bytes32 id, Instance storage it, Status reason) private {
        uint256 returned = it.reserve;
        address account = it.account;
        uint256 balanceAfter = balances[account] + returned;
        balances[account] = balanceAfter;
        totalBalances += returned;
        totalReserves -= returned;
        it.reserve = 0;
        it.status = reason;
        it.failedAt = 0;
        emit InstanceEnded(id, account, reason, returned, balanceAfter);
    }
}
