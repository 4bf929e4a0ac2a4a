/* rlp.c: placeholder until the module lands. */
typedef int rw_rlp_placeholder;
