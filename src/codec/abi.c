/* abi.c: placeholder until the module lands. */
typedef int rw_abi_placeholder;
