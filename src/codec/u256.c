/* u256.c: placeholder until the module lands. */
typedef int rw_u256_placeholder;
