/* relayer_fees.c: the fee market (eth_feeHistory, eth_gasPrice), the fees
 * of a new transaction, and the replacement rule. Pure: no I/O. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "relayer.h"
#include "rpc_class.h"

/* Most blocks of a fee history read (what fee_blocks allows). */
#define FEE_HISTORY_MAX 1024

static int u256_cmp_qsort(const void *a, const void *b)
{
	return rw_u256_cmp(a, b);
}

/* The median of reward[i][0] over blocks that used gas (all blocks when no
 * gasUsedRatio is given); zero when none. */
static int median_tip(rw_u256 *ret, const json_t *history)
{
	const json_t *reward = json_object_get(history, "reward");
	const json_t *ratio = json_object_get(history, "gasUsedRatio");
	*ret = rw_u256_from_u64(0);
	if (!reward || json_is_null(reward))
		return 0;
	if (!json_is_array(reward) || json_array_size(reward) > FEE_HISTORY_MAX)
		return RW_EINVAL;
	rw_u256 v[FEE_HISTORY_MAX];
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(reward); i++) {
		const json_t *r = json_array_get(reward, i);
		const json_t *used = json_is_array(ratio) ? json_array_get(ratio, i) : NULL;
		if (used && json_is_number(used) && json_number_value(used) <= 0.0)
			continue;
		if (!json_is_array(r) || json_array_size(r) < 1)
			return RW_EINVAL;
		if (rw_rpc_get_u256(&v[n], json_array_get(r, 0)) < 0)
			return RW_EINVAL;
		n++;
	}
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(v[0]), u256_cmp_qsort);
	*ret = v[n / 2];
	return 0;
}

int rw_relayer_market_parse(struct rw_relayer_market *ret, const json_t *history,
			    const json_t *gas_price)
{
	struct rw_relayer_market m;
	memset(&m, 0, sizeof(m));
	if (gas_price && !json_is_null(gas_price) && rw_rpc_get_u256(&m.gas_price, gas_price) < 0)
		return RW_EINVAL;
	if (history && !json_is_null(history)) {
		if (!json_is_object(history))
			return RW_EINVAL;
		const json_t *base = json_object_get(history, "baseFeePerGas");
		if (base && !json_is_null(base)) {
			size_t n = json_is_array(base) ? json_array_size(base) : 0;
			if (n == 0 || n > FEE_HISTORY_MAX + 1)
				return RW_EINVAL;
			for (size_t i = 0; i < n; i++) {
				rw_u256 v;
				if (rw_rpc_get_u256(&v, json_array_get(base, i)) < 0)
					return RW_EINVAL;
				m.has_base_fee |= !rw_u256_is_zero(&v); /* all zero: pre-London */
				m.base_fee = v;
			}
		}
		if (median_tip(&m.tip, history) < 0)
			return RW_EINVAL;
	}
	*ret = m;
	return 0;
}

static const rw_u256 *u256_max(const rw_u256 *a, const rw_u256 *b)
{
	return rw_u256_cmp(a, b) >= 0 ? a : b;
}

static const rw_u256 *u256_min(const rw_u256 *a, const rw_u256 *b)
{
	return rw_u256_cmp(a, b) <= 0 ? a : b;
}

/* *ret = ceil(v * num / den), den > 0; RW_ERANGE on overflow (ret
 * untouched then). */
static int u256_scale_up(rw_u256 *ret, const rw_u256 *v, uint64_t num, uint64_t den)
{
	rw_u256 n = rw_u256_from_u64(num), d = rw_u256_from_u64(den),
		r1 = rw_u256_from_u64(den - 1), t;
	int r = rw_u256_mul(&t, v, &n);
	if (r == 0)
		r = rw_u256_add(&t, &t, &r1);
	if (r == 0)
		r = rw_u256_div(&t, &t, &d);
	if (r == 0)
		*ret = t;
	return r;
}

/* *ret = v * pct / 100 (floor); RW_ERANGE on overflow. */
static int u256_pct(rw_u256 *ret, const rw_u256 *v, unsigned pct)
{
	rw_u256 p = rw_u256_from_u64(pct), h = rw_u256_from_u64(100), t;
	int r = rw_u256_mul(&t, v, &p);
	if (r == 0)
		r = rw_u256_div(&t, &t, &h);
	if (r == 0)
		*ret = t;
	return r;
}

int rw_relayer_fees_new(struct rw_relayer_fees *ret, const struct rw_relayer_market *m,
			const struct rw_relayer_opts *o)
{
	struct rw_relayer_fees f;
	memset(&f, 0, sizeof(f));
	if (!m->has_base_fee || o->legacy) {
		f.type = 0;
		f.gas_price = *u256_min(u256_max(&m->gas_price, &o->min_tip), &o->fee_cap);
		*ret = f;
		return rw_u256_cmp(&m->gas_price, &o->fee_cap) > 0 ? RW_ERANGE : 0;
	}
	f.type = 2;
	f.tip = *u256_min(u256_max(&m->tip, &o->min_tip), &o->fee_cap);
	rw_u256 fee;
	unsigned pct = o->base_fee_pct < 100 ? 100 : o->base_fee_pct;
	if (u256_pct(&fee, &m->base_fee, pct) < 0 || rw_u256_add(&fee, &fee, &f.tip) < 0)
		fee = o->fee_cap;
	f.max_fee = *u256_min(&fee, &o->fee_cap);
	*ret = f;
	return rw_u256_cmp(&m->base_fee, &o->fee_cap) > 0 ? RW_ERANGE : 0;
}

int rw_relayer_fees_ahead(struct rw_relayer_fees *ret, const struct rw_relayer_market *m,
			  const struct rw_relayer_opts *o, uint64_t blocks)
{
	int r = rw_relayer_fees_new(ret, m, o);
	if (ret->type != 2 || blocks == 0)
		return r;
	if (blocks > RW_RELAYER_AHEAD_MAX)
		blocks = RW_RELAYER_AHEAD_MAX;
	rw_u256 fee;
	unsigned pct = o->base_fee_pct < 100 ? 100 : o->base_fee_pct;
	int e = u256_pct(&fee, &m->base_fee, pct);
	for (uint64_t i = 0; e == 0 && i < blocks && rw_u256_cmp(&fee, &o->fee_cap) < 0; i++)
		e = u256_scale_up(&fee, &fee, 9, 8);
	if (e == 0)
		e = rw_u256_add(&fee, &fee, &ret->tip);
	if (e < 0)
		fee = o->fee_cap; /* past 2^256: the cap is lower anyway */
	ret->max_fee = *u256_min(&fee, &o->fee_cap);
	return r;
}

int rw_relayer_stuck_next(int *waiting, int current, int own)
{
	if (!current)
		return 0;
	if (own && !*waiting)
		return 1;
	*waiting = 1;
	return 0;
}

int rw_relayer_bump_min(rw_u256 *ret, const rw_u256 *old)
{
	rw_u256 one = rw_u256_from_u64(1), t;
	int r = u256_scale_up(&t, old, 11, 10); /* ceil(old * 1.1) + 1 */
	if (r == 0)
		r = rw_u256_add(&t, &t, &one);
	if (r == 0)
		*ret = t;
	return r;
}

/* One field of a replacement: max(bump_min(old), market), lowered to the
 * cap when the minimum fits. RW_ERANGE when it does not. */
static int bump_field(rw_u256 *ret, const rw_u256 *old, const rw_u256 *market, const rw_u256 *cap)
{
	rw_u256 least;
	if (rw_relayer_bump_min(&least, old) < 0 || rw_u256_cmp(&least, cap) > 0)
		return RW_ERANGE;
	const rw_u256 *v = market ? u256_max(&least, market) : &least;
	*ret = *u256_min(v, cap);
	return 0;
}

int rw_relayer_fees_bump(struct rw_relayer_fees *ret, const struct rw_relayer_fees *highest,
			 const struct rw_relayer_fees *market, const rw_u256 *fee_cap)
{
	struct rw_relayer_fees f;
	memset(&f, 0, sizeof(f));
	f.type = highest->type;
	if (market && market->type != highest->type)
		market = NULL;
	if (f.type == 0) {
		if (bump_field(&f.gas_price, &highest->gas_price,
			       market ? &market->gas_price : NULL, fee_cap) < 0)
			return RW_ERANGE;
		*ret = f;
		return 0;
	}
	if (bump_field(&f.tip, &highest->tip, market ? &market->tip : NULL, fee_cap) < 0 ||
	    bump_field(&f.max_fee, &highest->max_fee, market ? &market->max_fee : NULL, fee_cap) <
		    0)
		return RW_ERANGE;
	if (rw_u256_cmp(&f.max_fee, &f.tip) < 0)
		f.max_fee = f.tip;
	*ret = f;
	return 0;
}

uint64_t rw_relayer_gas_limit(uint64_t estimate, unsigned margin_pct)
{
	const uint64_t ceiling = (uint64_t)1 << 53;
	if (estimate > ceiling / 2)
		return ceiling;
	uint64_t v = estimate + estimate / 100 * margin_pct + (estimate % 100) * margin_pct / 100;
	if (v > ceiling)
		v = ceiling;
	return v < 21000 ? 21000 : v;
}
